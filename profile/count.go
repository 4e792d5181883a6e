package profile

import (
	"errors"
	"fmt"
)

// Counted transfers. A per-task perf event rides on its thread's context
// switches: the kernel schedules the thread's perf context out and in at
// every switch, with interrupts off (perf_event_task_sched_out/in), and
// the blocking modes switch tens of thousands of times a second. Sampled
// under such counters, a child's profile shows the counters' own cost as
// kernel time on the switch path (finish_task_switch, where interrupts
// come back on). So in the cpu view the profiled transfers carry no
// per-task event at all: only the CPU-wide samplers, whose timers do not
// follow any task. The counters are counted in transfers of their own,
// interleaved with the profiled ones, through Counting.
//
// Why not CPU-wide counters during the sampled transfer: a CPU-wide
// context-switches, cpu-migrations or page-faults count covers every task
// on the CPU (the idle task's switches, the profiler's, other programs'),
// and splitting it among tasks needs a record per event, which puts work
// back on the switch path; samples split a CPU's time among tasks but not
// its events. Counting in separate transfers gives exact per-thread
// counts whatever the pinning (--pin none too) at the price of one more
// transfer per round, and of counts taken from a transfer the counters
// themselves slow down; the command reports that transfer's throughput.

// Counting is an observer for the counted transfers of a Profiler: on
// each run it opens the counters (task-clock, context-switches,
// cpu-migrations, page-faults, and the hardware ones where a PMU exists)
// on every thread of both children, and adds their counts to the
// profiler's roles at Stop. It samples nothing.
type Counting struct {
	p *Profiler
}

// Counting returns the observer of p's counted transfers. In the wall
// view the profiled transfers carry the counters themselves (see
// CountsSeparately) and the observer counts nothing more.
func (p *Profiler) Counting() *Counting {
	return &Counting{p: p}
}

// CountsSeparately reports whether p's counters come from counted
// transfers (the cpu view) rather than from the profiled ones (the wall
// view).
func (p *Profiler) CountsSeparately() bool {
	return !p.countInline
}

// Attach opens disabled counters on every thread of the writer and the
// reader. On error nothing stays open.
func (c *Counting) Attach(writer, reader int) error {
	p := c.p
	if p.attached {
		return errors.New("profile: attach counters: already attached (call Stop first)")
	}
	if p.countInline {
		return nil
	}
	p.attached = true
	for i, pid := range []int{writer, reader} {
		tids, err := threadIDs(pid)
		if err == nil {
			err = p.openCounters(p.roles[i], tids)
		}
		if err != nil {
			p.closeThreads()
			return fmt.Errorf("profile: attach counters %s: %w", p.roles[i].name, err)
		}
	}
	return nil
}

// Start enables the counters.
func (c *Counting) Start() error {
	for _, t := range c.p.threads {
		if err := t.enable(); err != nil {
			return fmt.Errorf("profile: start counters: %w", err)
		}
	}
	return nil
}

// Stop reads the counters into the roles and closes them.
func (c *Counting) Stop() error {
	p := c.p
	if !p.attached || p.countInline {
		return nil
	}
	for _, r := range p.roles {
		p.readCounters(r)
	}
	p.counted++
	p.closeThreads()
	p.result = nil
	return nil
}
