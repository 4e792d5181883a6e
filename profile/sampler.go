package profile

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	perf "github.com/elastic/go-perf"
	"golang.org/x/sys/unix"
)

// Samplers. The children are sampled with one CPU-wide cpu-clock
// event per CPU they may run on, and samples are told apart by pid. A
// per-thread sampling event would be cheaper to read but not to run: the
// kernel stops its hrtimer when the thread is switched out and rearms it
// when the thread comes back, two timer reprogrammings per context switch,
// and the blocking modes switch tens of thousands of times a second. In a
// VM each reprogramming exits to the hypervisor. A CPU-wide event's timer
// just runs, so the children pay only for the samples themselves.
// Per-thread events remain the fallback where CPU-wide events are refused
// (kernel.perf_event_paranoid 1 without CAP_PERFMON). They are inherited,
// so that the threads and processes a child creates are sampled too (an
// external command's pipeline), and the kernel mmaps an inherited
// per-task event only when it is bound to a CPU (perf_mmap): there is one
// per thread and CPU it may run on.

// sampler is one cpu-clock sampling event and its ring.
type sampler struct {
	ev  *perf.Event
	cpu int
	tid int // -1 for a CPU-wide sampler
	// event is the sampled event's name (EventCPUClock, EventCycles).
	event string
	// format is the layout of its records: a per-thread sampler asks for
	// PERF_SAMPLE_CPU, since its samples may come from any CPU.
	format recordFormat
	// periodNS is the cpu-clock period the event was opened with; 0 for
	// cycles, whose period the kernel adjusts and which rephase leaves be.
	periodNS uint64
	// role is the role of a per-thread sampler. A CPU-wide sampler sees
	// every process on its CPU and finds the role by pid; last is the role
	// of the latest sample that matched, which lost-record counts (whose
	// pid may be any task) are charged to.
	role, last *roleState
}

// name identifies the sampler in messages.
func (s *sampler) name() string {
	if s.tid >= 0 {
		return fmt.Sprintf("tid %d cpu %d", s.tid, s.cpu)
	}
	return fmt.Sprintf("cpu %d", s.cpu)
}

// openSampler opens cpu-clock sampling at freqHz on every task of cpu
// (tid -1), or on tid and what it creates while they run on cpu, and maps
// a ring of pages, or of smallRingPages when the locked-memory limit
// refuses that.
func openSampler(event string, tid, cpu, freqHz, pages int, userOnly bool) (*sampler, []string, error) {
	attr := samplingAttr(event, freqHz)
	if userOnly {
		excludeKernel(&attr)
	}
	s := &sampler{cpu: cpu, tid: tid, event: event}
	if tid >= 0 {
		attr.Options.Inherit = true
		attr.SampleFormat.CPU = true
		s.format.cpu = true
	}
	if !attr.Options.Freq {
		s.periodNS = attr.Sample
	}
	ev, err := openSampling(&attr, tid, cpu)
	if err != nil {
		return nil, nil, samplingOpenError(event, tid, err)
	}
	s.ev = ev
	var warn []string
	if err := ev.MapRingNumPages(pages); err != nil {
		if !errors.Is(err, unix.EPERM) {
			ev.Close()
			return nil, nil, fmt.Errorf("mmap %s ring %s: %w", event, s.name(), err)
		}
		if err := ev.MapRingNumPages(smallRingPages); err != nil {
			ev.Close()
			return nil, nil, fmt.Errorf("mmap %s ring %s: %w (raise kernel.perf_event_mlock_kb or run as root)", event, s.name(), err)
		}
		warn = append(warn, fmt.Sprintf(event+": ring of %d pages refused, using %d (raise kernel.perf_event_mlock_kb); samples may be lost", pages, smallRingPages))
	}
	return s, warn, nil
}

// openCPUWideSamplers opens a CPU-wide sampler on each of cpus. It returns
// an error wrapping EACCES or EPERM when CPU-wide events are not allowed,
// and closes what it opened on any error.
func openCPUWideSamplers(event string, cpus []int, freqHz int) ([]*sampler, []string, error) {
	var ss []*sampler
	var warns []string
	for _, cpu := range cpus {
		s, w, err := openSampler(event, -1, cpu, freqHz, cpuRingPages, false)
		if err != nil {
			closeSamplers(ss)
			return nil, nil, err
		}
		ss = append(ss, s)
		warns = append(warns, w...)
	}
	return ss, warns, nil
}

// closeSamplers closes every sampler of ss.
func closeSamplers(ss []*sampler) {
	for _, s := range ss {
		s.ev.Close()
	}
}

// refused reports whether err is perf_event_open saying no for lack of
// privilege, the case where per-thread sampling may still work.
func refused(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)
}

// cpusOf returns the CPUs any of tids may run on, in order: the union of
// their affinity masks. Threads that have gone are skipped.
func cpusOf(tids []int) []int {
	var union unix.CPUSet
	for _, tid := range tids {
		var set unix.CPUSet
		if unix.SchedGetaffinity(tid, &set) != nil {
			continue
		}
		for i := range union {
			union[i] |= set[i]
		}
	}
	var cpus []int
	for cpu := 0; cpu < len(union)*64; cpu++ {
		if union.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	return cpus
}

// enableSamplers starts every sampler, then, if inPhase, puts the
// cpu-clock timers of the CPU-wide ones in step (see rephase). It reports
// whether they are: a machine too busy to run a pinned thread on time
// leaves them out of step, which costs throughput, not samples.
func enableSamplers(ss []*sampler, inPhase bool) (inStep bool, err error) {
	var cpuWide []*sampler
	for _, s := range ss {
		if err := s.ev.Enable(); err != nil {
			return false, fmt.Errorf("enable %s %s: %w", s.event, s.name(), err)
		}
		if s.tid < 0 && s.periodNS > 0 { // CPU-wide cpu-clock timers only
			cpuWide = append(cpuWide, s)
		}
	}
	if len(cpuWide) < 2 {
		return true, nil
	}
	if !inPhase {
		return false, nil
	}
	return rephase(cpuWide)
}

// Timing of rephase: the first common moment is phaseDelay ahead (time
// for a thread to be created and moved to each CPU), the next ones
// phaseStep apart, phaseAttempts in all. A thread is on time if it makes
// its call within phaseSlack of the moment and the call returns within
// ioctlTime.
const (
	phaseDelay    = 3 * time.Millisecond
	phaseStep     = 200 * time.Microsecond
	phaseAttempts = 20
	phaseSlack    = 3 * time.Microsecond
	ioctlTime     = 10 * time.Microsecond // PERF_EVENT_IOC_PERIOD: 4-80µs here, mostly under 10
)

// rephase restarts the cpu-clock timers of ss at one common moment: a
// thread pinned to each sampler's CPU waits for the moment and sets the
// event's period there (PERF_EVENT_IOC_PERIOD restarts the timer a whole
// period from now; the kernel then moves it on by whole periods after
// each sample). If any thread was late, all try again at the next moment.
// It reports whether an attempt had every thread on time.
//
// Why: each timer interrupt stalls its CPU for 30-40µs in a guest like
// this one, and in the modes where writer and reader take turns the side
// that waits sits out every stall of the other; stalls in step overlap
// instead of adding up. Beside `pipelab run --mode vmsplice-huge`, two
// bare 999 Hz cpu-clock events kept 0.92-0.94 of the throughput in step
// and 0.74-0.76 half a period apart, and 20µs apart cost as much as half
// a period. Enabling the events back to back from one thread leaves them
// 5-43µs apart.
func rephase(ss []*sampler) (bool, error) {
	n := int32(len(ss))
	first := time.Now().Add(phaseDelay)
	// A thread that waits for the others past this gives up, so that one
	// kept off its CPU (say, queued behind a real-time spinner before it
	// could move) cannot hold the rest spinning.
	giveUp := first.Add(phaseAttempts*phaseStep + phaseDelay)
	var (
		finished [phaseAttempts]atomic.Int32 // threads done with attempt k
		late     [phaseAttempts]atomic.Int32 // threads late at attempt k
		inStep   atomic.Bool
	)
	errs := make([]error, len(ss))
	var wg sync.WaitGroup
	for i, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := 0
			defer func() { // a thread that stops early counts as late from there on
				for ; k < phaseAttempts; k++ {
					late[k].Add(1)
					finished[k].Add(1)
				}
			}()
			restore, err := pinForPhase(s.cpu)
			if err != nil {
				return
			}
			defer restore()
			for ; k < phaseAttempts; k++ {
				if k > 0 {
					for finished[k-1].Load() < n {
						if time.Now().After(giveUp) {
							return
						}
					}
					if late[k-1].Load() == 0 {
						inStep.Store(true)
						k = phaseAttempts
						return
					}
				}
				at := first.Add(time.Duration(k) * phaseStep)
				for time.Now().Before(at) {
				}
				start := time.Now()
				if err := s.ev.UpdatePeriod(s.periodNS); err != nil {
					errs[i] = fmt.Errorf("restart cpu-clock %s: %w", s.name(), err)
					return
				}
				if start.Sub(at) > phaseSlack || time.Since(start) > ioctlTime {
					late[k].Add(1)
				}
				finished[k].Add(1)
			}
		}()
	}
	wg.Wait()
	if late[phaseAttempts-1].Load() == 0 {
		inStep.Store(true)
	}
	return inStep.Load(), errors.Join(errs...)
}

// pinForPhase locks the calling goroutine to its thread, pins the thread
// to cpu and makes it real-time where allowed, so that no other thread
// takes the CPU while it waits for the moment. restore gives the thread
// back as it was: a thread that exited instead would take with it the
// children it forked, whose parent-death signal follows the forking
// thread, not the process.
func pinForPhase(cpu int) (restore func(), err error) {
	runtime.LockOSThread()
	var was, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	attr, err := unix.SchedGetAttr(0, 0)
	rt := err == nil && unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: 1}, 0) == nil
	return func() {
		if rt {
			unix.SchedSetAttr(0, attr, 0)
		}
		unix.SchedSetaffinity(0, &was)
		runtime.UnlockOSThread()
	}, nil
}
