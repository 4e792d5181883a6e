package profile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"

	perf "github.com/elastic/go-perf"
	"golang.org/x/sys/unix"
)

// switchRingPages is the data size of each context-switch ring in pages.
// Every switch writes a sample with its kernel callchain (about 150
// bytes) and two PERF_RECORD_SWITCH records; 1 MiB holds a few thousand
// switches between two half-full wakeups.
const switchRingPages = 256

// switchAttr configures the wall view's event on one thread and CPU: the
// software context-switches event at sample period 1, so every switch-out
// writes a sample with its kernel callchain, plus PERF_RECORD_SWITCH
// records (attr.context_switch, since Linux 4.3) that time each
// switch-out and switch-in, and PERF_RECORD_EXIT (attr.task) that ends the
// thread's window. Timestamps use CLOCK_MONOTONIC (attr.use_clockid, since
// Linux 4.1) so they compare with the window start read by clock_gettime.
//
// Inherit makes every thread and process the thread creates after the
// attach carry the event too, writing into the same ring: an external
// command's pipeline and workers are followed from their first
// instruction, as the CPU-wide samplers follow them through fork records.
// The kernel mmaps an inherited per-task event only when it is bound to a
// CPU (perf_mmap), so there is one event per thread and CPU it may run on.
// A pinned thread's one ring holds its records and those of what it
// creates in time order, and its reader feeds them into their timelines
// at once; where a thread may run on several CPUs, a thread that migrates
// leaves its records in two rings, so the readers log them (memory grows
// with the switches) and stopWall puts each thread's back in time order.
//
// The user part of the callchain is left out: the kernel stack already
// names the blocking site and the system call, and on this VM the user
// stack walk costs about 8 µs of the thread's CPU time per switch, more
// than the rest of the switch event together (measured in vmsplice mode:
// task-clock per context switch 24 µs in the cpu view, 38 µs in the wall
// view with user callchains, 29 µs without).
func switchAttr() perf.Attr {
	a := perf.Attr{
		Label:        "context-switches",
		Type:         perf.SoftwareEvent,
		Config:       uint64(perf.ContextSwitches),
		SampleFormat: sampleFormat,
		ClockID:      unix.CLOCK_MONOTONIC,
		Options: perf.Options{
			Disabled:      true,
			Task:          true,
			SampleIDAll:   true,
			ContextSwitch: true,
			UseClockID:    true,
			Inherit:       true,

			ExcludeUserCallchain: true,
		},
	}
	a.SetSamplePeriod(1)
	return a
}

// wallRole is the wall view's state of one role.
type wallRole struct {
	events    []*switchEvent // of the current cycle
	startNS   int64          // the current cycle's window start
	timelines []*timeline    // of every cycle
	lost      uint64         // records the switch rings lost
	bad       int            // records that could not be decoded
}

// switchEvent is the context-switch event of one attached thread on one
// CPU, inherited by what the thread creates. Its reader logs the ring's
// records during the transfer; stopWall feeds them into the timelines of
// their threads. tl is the attached thread's timeline, shared by its
// events on every CPU.
type switchEvent struct {
	ev   *perf.Event
	tl   *timeline
	log  []switchRecord
	lost uint64
	bad  int
	// live feeds the records into timelines as they are read instead of
	// logging them: the event is its thread's only one (one CPU). born
	// holds the timelines of the threads created since the attach, which
	// start at startNS.
	live    bool
	born    map[uint32]*timeline
	startNS int64
	// chains interns the switch-out callchains: a thread blocks in a few
	// places, so a log of many switches holds few distinct stacks.
	chains map[string]string
}

// switchRecord is one logged record of a switch ring: a switch-out sample
// (chain set), a PERF_RECORD_SWITCH or a PERF_RECORD_EXIT.
type switchRecord struct {
	timeNS   int64
	pid, tid uint32
	typ      uint32
	misc     uint16
	chain    string
}

// openSwitch opens and maps the context-switch event on tid, counting on
// cpu. It is a variable so tests can play a kernel that refuses it.
var openSwitch = func(tid, cpu int) (*perf.Event, error) {
	attr := switchAttr()
	ev, err := perf.Open(&attr, tid, cpu, nil)
	if errors.Is(err, unix.EINVAL) {
		return nil, fmt.Errorf("perf_event_open context-switches pid %d: %w (PERF_RECORD_SWITCH needs Linux 4.3 or later, use_clockid 4.1)", tid, err)
	}
	if err != nil {
		return nil, openError("context-switches", tid, err)
	}
	err = ev.MapRingNumPages(switchRingPages)
	if errors.Is(err, unix.EPERM) {
		err = ev.MapRingNumPages(smallRingPages)
	}
	if err != nil {
		ev.Close()
		return nil, fmt.Errorf("mmap context-switches ring tid %d cpu %d: %w (raise kernel.perf_event_mlock_kb or run as root)", tid, cpu, err)
	}
	return ev, nil
}

// attachWall opens the context-switch events on the threads of pid, one
// per CPU each may run on. When the kernel refuses them the profiler
// falls back to the cpu view for good: every switch event is closed and a
// warning says why.
func (p *Profiler) attachWall(r *roleState, pid int, tids []int) {
	if r.wall == nil {
		return
	}
	for _, tid := range tids {
		tl := newTimeline(uint32(pid), uint32(tid), 0)
		cpus := cpusOf([]int{tid})
		for _, cpu := range cpus {
			ev, err := openSwitch(tid, cpu)
			if err != nil {
				p.fallBackToCPU(err)
				return
			}
			r.wall.events = append(r.wall.events, &switchEvent{ev: ev, tl: tl, chains: map[string]string{},
				live: len(cpus) == 1, born: map[uint32]*timeline{}})
		}
	}
}

// fallBackToCPU closes the wall view's events and turns the profiler into
// a cpu-view profiler, with a warning that carries err's remedy.
func (p *Profiler) fallBackToCPU(err error) {
	p.warn(fmt.Sprintf("wall view: context-switch events refused: %v; fell back to the cpu view", err))
	for _, r := range p.roles {
		if r.wall != nil {
			r.wall.closeEvents()
			r.wall = nil
		}
	}
	p.cfg.View = "cpu"
}

// startWall enables the switch and wake-up events, then starts the window
// of every thread and one reader per switch ring. The window starts once
// every event is enabled, so that no switch inside it goes unrecorded: a
// thread that switched in before its event was enabled and out after
// would otherwise count as running since the window start, and a child's
// runtime thread running across the gap would get on-CPU time its task-clock
// never counted (in a short transfer, more than the transfer thread has,
// and the wall view would report the two measures disagreeing). Call it after
// startWakes, whose opening of the wake-up events takes milliseconds
// (tens on a loaded machine), and after enabling the threads' counters,
// so that their task-clock covers the window and little more.
func (p *Profiler) startWall(ctx context.Context) error {
	for _, r := range p.roles {
		if r.wall == nil {
			continue
		}
		for _, se := range r.wall.events {
			if err := se.ev.Enable(); err != nil {
				return fmt.Errorf("enable context-switches tid %d: %w", se.tl.tid, err)
			}
		}
	}
	if err := p.enableWakes(); err != nil {
		return err
	}
	now := monotonicNS()
	for _, r := range p.roles {
		if r.wall == nil {
			continue
		}
		r.wall.startNS = now
		for _, se := range r.wall.events {
			se.tl.startNS, se.tl.lastNS, se.tl.inNS = now, now, now
			se.startNS = now
			if fixtureTap != nil {
				fixtureTap.ring(r.name, se, now)
			}
			p.readers.Add(1)
			go p.readSwitches(ctx, se)
		}
	}
	return nil
}

// readSwitches logs the records of one switch ring until the thread
// exits (ErrDisabled) or Stop cancels ctx, then drains what is left.
func (p *Profiler) readSwitches(ctx context.Context, se *switchEvent) {
	defer p.readers.Done()
	var raw perf.RawRecord
	for {
		if err := se.ev.ReadRawRecord(ctx, &raw); err != nil {
			break
		}
		se.handle(&raw)
	}
	drain := expiredCtx()
	for se.ev.HasRecord() {
		if err := se.ev.ReadRawRecord(drain, &raw); err != nil {
			return
		}
		se.handle(&raw)
	}
}

// handle decodes one raw record and feeds it into its thread's timeline
// (live) or logs it.
func (se *switchEvent) handle(raw *perf.RawRecord) {
	if fixtureTap != nil {
		fixtureTap.switchRecord(se, raw)
	}
	var rec record
	if err := decodeBody(uint32(raw.Header.Type), raw.Header.Misc, raw.Data, &rec); err != nil {
		se.bad++
		return
	}
	switch rec.typ {
	case recordSample, recordSwitch, recordExit:
	case recordLost, recordLostSamples:
		se.lost += rec.lost
		return
	default:
		return
	}
	if rec.tid == 0 || rec.pid == ^uint32(0) {
		return // no task: a record the kernel wrote for none
	}
	if se.live {
		se.timeline(rec.pid, rec.tid).handle(&rec)
		return
	}
	sr := switchRecord{timeNS: int64(rec.time), pid: rec.pid, tid: rec.tid, typ: rec.typ, misc: rec.misc}
	if len(rec.chain) > 0 {
		c, ok := se.chains[string(rec.chain)]
		if !ok {
			c = string(rec.chain)
			se.chains[c] = c
		}
		sr.chain = c
	}
	se.log = append(se.log, sr)
}

// timeline returns the live event's timeline of tid, creating it for a
// thread born since the attach.
func (se *switchEvent) timeline(pid, tid uint32) *timeline {
	if tid == se.tl.tid {
		return se.tl
	}
	tl := se.born[tid]
	if tl == nil {
		tl = newTimeline(pid, tid, se.startNS)
		se.born[tid] = tl
	}
	return tl
}

// stopWall feeds every thread's logged records, in time order, into its
// timeline: the attached threads', and one new timeline per thread they
// created, whose window starts when it first runs. It closes the window
// of every thread still alive at stopNS and keeps the cycle's timelines.
// Call it after the readers are done.
func (p *Profiler) stopWall(stopNS int64) {
	for _, r := range p.roles {
		w := r.wall
		if w == nil {
			continue
		}
		if w.startNS != 0 { // started
			for _, tl := range w.cycleTimelines() {
				tl.stop(stopNS)
				p.joinWakes(tl)
				tl.taskClockNS = p.taskClock(int(tl.tid))
				tl.countedSwitches = p.counterOf(int(tl.tid), counterContextSwitches)
				w.timelines = append(w.timelines, tl)
			}
		}
		for _, se := range w.events {
			w.lost += se.lost
			w.bad += se.bad
		}
		w.closeEvents()
		w.startNS = 0
	}
	p.stopWakes()
}

// cycleTimelines returns the timelines of the current cycle, the logs of
// its switch events fed in: the attached threads' first, then those of
// the threads born since, by tid. Each thread's logged records are sorted
// by time, since a thread that moved between CPUs left them in two rings
// (a thread's records on one CPU are in order already, and a stable sort
// keeps them so).
func (w *wallRole) cycleTimelines() []*timeline {
	byTid := map[uint32]*timeline{}
	var out []*timeline
	for _, se := range w.events {
		if byTid[se.tl.tid] == nil {
			byTid[se.tl.tid] = se.tl
			out = append(out, se.tl)
		}
	}
	var born []uint32
	for _, se := range w.events {
		for tid, tl := range se.born {
			if byTid[tid] == nil {
				byTid[tid] = tl
				born = append(born, tid)
			}
		}
	}
	logs := map[uint32][]switchRecord{}
	for _, se := range w.events {
		for _, sr := range se.log {
			logs[sr.tid] = append(logs[sr.tid], sr)
		}
	}
	for tid, l := range logs {
		if byTid[tid] == nil {
			tl := newTimeline(l[0].pid, tid, w.startNS)
			byTid[tid] = tl
			born = append(born, tid)
		}
	}
	slices.Sort(born)
	for _, tid := range born {
		out = append(out, byTid[tid])
	}
	var chain []byte
	for tid, l := range logs {
		slices.SortStableFunc(l, func(a, b switchRecord) int { return cmp.Compare(a.timeNS, b.timeNS) })
		tl := byTid[tid]
		for _, sr := range l {
			chain = append(chain[:0], sr.chain...)
			rec := record{typ: sr.typ, misc: sr.misc, pid: sr.pid, tid: sr.tid, time: uint64(sr.timeNS), chain: chain}
			tl.handle(&rec)
		}
	}
	return out
}

// taskClock reads the task-clock counter of thread tid in nanoseconds, or
// returns 0 when it is not open: an independent measure of the thread's
// on-CPU time that the wall view checks its switch timestamps against.
func (p *Profiler) taskClock(tid int) int64 {
	return max(p.counterOf(tid, counterTaskClock), 0)
}

// Indexes of allCounters that the wall view reads per thread.
const (
	counterTaskClock       = 0
	counterContextSwitches = 1
)

// counterOf reads counter i of allCounters on thread tid; -1 when it is
// not open there or cannot be read.
func (p *Profiler) counterOf(tid, i int) int64 {
	for _, t := range p.threads {
		if t.tid != tid || len(t.counters) <= i || t.counters[i] == nil {
			continue
		}
		if c, err := t.counters[i].ReadCount(); err == nil {
			return int64(c.Value)
		}
	}
	return -1
}

// closeEvents closes the switch events of the current cycle.
func (w *wallRole) closeEvents() {
	for _, se := range w.events {
		se.ev.Close()
	}
	w.events = nil
}

// monotonicNS reads CLOCK_MONOTONIC, the switch events' clock.
func monotonicNS() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

// ProbeContextSwitches opens and maps the wall view's context-switch event
// on the calling thread. It returns nil when the wall view can run here,
// else the error with the setting or kernel version that is missing.
func ProbeContextSwitches() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpus := cpusOf([]int{unix.Gettid()})
	if len(cpus) == 0 {
		return errors.New("sched_getaffinity: no CPU found for this thread")
	}
	ev, err := openSwitch(unix.Gettid(), cpus[0])
	if err != nil {
		return err
	}
	return ev.Close()
}
