package profile

import (
	"fmt"
	"strings"

	pprof "github.com/google/pprof/profile"
)

// The wall view follows each thread through its context switches, and
// every thread and process the children create after the attach (the
// switch events are inherited, see switchAttr). A thread's window runs
// from Start (the moment the switch events are enabled) to its
// PERF_RECORD_EXIT, or to Stop if it is still alive. A thread asleep at
// Start is a gated child waiting on its start gate, which is not part of
// the transfer, and a thread created later was not there: their windows
// start when they first run. Every
// switch-out and switch-in inside the window is a transition, so the
// window is cut into on-CPU intervals (switch-in to switch-out) and
// off-CPU intervals (switch-out to switch-in) that add up to the window
// exactly. Each off-CPU interval is charged to the kernel and user stack
// the thread had when it switched out (the context-switches sample that
// precedes the PERF_RECORD_SWITCH out record in the same ring).

// offNoStackFrame is the function name of the frame that holds off-CPU
// time whose stack was not recorded because the switch-out sample or
// record was lost.
const offNoStackFrame = "[off-CPU: stack not recorded]"

// onNoSampleFrame is the function name of the frame that holds on-CPU
// time of a thread that no cpu-clock sample caught (it ran for less than
// a sampling period).
const onNoSampleFrame = "[on-CPU: not sampled]"

// threadState is where a timeline thread is between two transitions.
type threadState uint8

const (
	stateUnknown threadState = iota // no transition seen yet: running or asleep since Start
	stateOn                         // running on a CPU
	stateOff                        // switched out
	stateDone                       // exited or window closed
)

// timeline accounts one thread's window. Times are CLOCK_MONOTONIC
// nanoseconds, the clock of the switch events (Attr.ClockID).
type timeline struct {
	pid, tid uint32
	startNS  int64 // window start
	lastNS   int64 // time of the last transition
	endNS    int64 // window end, once stateDone
	state    threadState

	pending   []byte // stack of the last switch-out sample, not yet used
	hasSample bool   // pending holds a sample taken since the last switch-out
	offChain  []byte // stack charged with the current off-CPU interval
	voluntary bool   // the current off-CPU interval is a sleep
	outNS     int64  // time of the last switch-out
	inNS      int64  // time of the last switch-in, or the window start
	sleeps    []sleep
	wake      *wakeSplit // the sleeps split by their wake-ups; nil if not recorded

	onNS, offNS       int64
	preemptedNS       int64 // off-CPU time after involuntary switch-outs
	taskClockNS       int64 // the thread's task-clock counter; 0 if not read
	countedSwitches   int64 // the thread's context-switches counter; -1 if not read
	switches, wakeups uint64
	mismatches        int         // transitions that contradict the state (lost records)
	off               *aggregator // off-CPU stacks; offNS per stack
}

func newTimeline(pid, tid uint32, startNS int64) *timeline {
	return &timeline{pid: pid, tid: tid, startNS: startNS, lastNS: startNS, inNS: startNS, off: newAggregator(), countedSwitches: -1}
}

// sample records the stack of a context-switches sample: the thread is
// about to switch out.
func (tl *timeline) sample(chain []byte) {
	if tl.state == stateDone {
		return
	}
	tl.pending = append(tl.pending[:0], chain...)
	tl.hasSample = true
}

// switchOut handles a PERF_RECORD_SWITCH out record at tNS; preempt is
// PERF_RECORD_MISC_SWITCH_OUT_PREEMPT (the thread was still runnable).
func (tl *timeline) switchOut(tNS int64, preempt bool) {
	switch tl.state {
	case stateDone:
		return
	case stateOff:
		tl.mismatches++ // the switch-in before this was lost
	}
	tl.onNS += tl.advance(tNS)
	tl.outNS = tl.lastNS
	tl.state = stateOff
	tl.switches++
	tl.voluntary = !preempt
	tl.offChain = tl.offChain[:0]
	if tl.hasSample {
		tl.offChain = append(tl.offChain, tl.pending...)
		tl.hasSample = false
	}
}

// switchIn handles a PERF_RECORD_SWITCH in record at tNS.
func (tl *timeline) switchIn(tNS int64) {
	switch tl.state {
	case stateDone:
		return
	case stateOn:
		tl.mismatches++ // the switch-out before this was lost
		tl.offChain = tl.offChain[:0]
	case stateUnknown:
		// Asleep since before Start: the window starts now.
		tl.startNS, tl.lastNS, tl.inNS, tl.state = tNS, tNS, tNS, stateOn
		return
	case stateOff:
		if tl.voluntary {
			tl.wakeups++
		}
	}
	tl.endOff(tNS)
	tl.inNS = tl.lastNS
	tl.state = stateOn
}

// endOff charges the off-CPU interval that ends at tNS: a sleep when the
// thread is off after a voluntary switch-out, preempted time when after
// an involuntary one.
func (tl *timeline) endOff(tNS int64) {
	d := tl.advance(tNS)
	st := tl.chargeOff(d)
	switch {
	case tl.state != stateOff:
	case tl.voluntary:
		tl.sleeps = append(tl.sleeps, sleep{outNS: tl.outNS, inNS: tl.lastNS, prevInNS: tl.inNS, st: st})
	default:
		tl.preemptedNS += d
	}
}

// exit handles the thread's PERF_RECORD_EXIT at tNS: the exiting thread is
// running, so the interval since the last transition was on-CPU.
func (tl *timeline) exit(tNS int64) {
	switch tl.state {
	case stateDone:
		return
	case stateOff:
		tl.mismatches++
	}
	tl.onNS += tl.advance(tNS)
	tl.close(tNS)
}

// stop closes the window of a thread still alive at tNS. A thread never
// seen to switch is taken as asleep since before Start: its window is
// empty.
func (tl *timeline) stop(tNS int64) {
	switch tl.state {
	case stateDone:
		return
	case stateUnknown:
		tl.startNS, tl.lastNS = tNS, tNS
	case stateOn:
		tl.onNS += tl.advance(tNS)
	case stateOff:
		tl.endOff(tNS)
	}
	tl.close(tNS)
}

// advance moves the last transition to tNS and returns the time since the
// previous one; time never runs backwards.
func (tl *timeline) advance(tNS int64) int64 {
	d := tNS - tl.lastNS
	if d < 0 {
		return 0
	}
	tl.lastNS = tNS
	return d
}

// chargeOff adds an off-CPU interval of d nanoseconds to the current
// off-CPU stack (an empty stack when it is not known) and returns that
// stack, nil when d is 0.
func (tl *timeline) chargeOff(d int64) *stack {
	tl.offNS += d
	if d > 0 {
		return tl.off.add(tl.pid, tl.tid, tl.offChain, 0, 0, d)
	}
	return nil
}

func (tl *timeline) close(tNS int64) {
	if tNS < tl.lastNS {
		tNS = tl.lastNS
	}
	tl.endNS = tNS
	tl.state = stateDone
}

// wallNS is the length of the window so far (up to the last transition
// while it is open).
func (tl *timeline) wallNS() int64 {
	if tl.state == stateDone {
		return tl.endNS - tl.startNS
	}
	return tl.lastNS - tl.startNS
}

// handleSwitchRecord feeds one decoded record of a switch ring into tl.
// It reports whether the record was a lost-records notice, and how many.
func (tl *timeline) handle(rec *record) (lost uint64) {
	switch rec.typ {
	case recordSample:
		tl.sample(rec.chain)
	case recordSwitch:
		if rec.misc&miscSwitchOut != 0 {
			tl.switchOut(int64(rec.time), rec.misc&miscSwitchOutPreempt != 0)
		} else {
			tl.switchIn(int64(rec.time))
		}
	case recordExit:
		if rec.tid == tl.tid {
			tl.exit(int64(rec.time))
		}
	case recordLost, recordLostSamples:
		return rec.lost
	}
	return 0
}

// transferThreads picks, for each process, the thread with the most
// on-CPU time: the thread that moves the bytes. The role's wall figures
// and wall profile follow these threads only, so that idle runtime
// threads (asleep for the whole run) do not swamp them.
func transferThreads(tls []*timeline) []*timeline {
	best := map[uint32]*timeline{}
	var pids []uint32
	for _, tl := range tls {
		b, ok := best[tl.pid]
		if !ok {
			pids = append(pids, tl.pid)
		}
		if !ok || tl.onNS > b.onNS {
			best[tl.pid] = tl
		}
	}
	out := make([]*timeline, 0, len(pids))
	for _, pid := range pids {
		out = append(out, best[pid])
	}
	return out
}

// wallFigures are a role's wall-clock totals over its transfer threads.
type wallFigures struct {
	wallNS, onNS, offNS int64
	preemptedNS         int64
	taskClockNS         int64 // 0 unless read for every thread
	switches, wakeups   uint64
	mismatches          int
	// countedSwitches is the context-switches counter of the threads;
	// -1 unless read for every thread.
	countedSwitches int64
}

func sumFigures(tls []*timeline) wallFigures {
	var f wallFigures
	clocked, counted := true, true
	for _, tl := range tls {
		f.taskClockNS += tl.taskClockNS
		clocked = clocked && tl.taskClockNS > 0
		f.countedSwitches += tl.countedSwitches
		counted = counted && tl.countedSwitches >= 0
		f.wallNS += tl.wallNS()
		f.onNS += tl.onNS
		f.offNS += tl.offNS
		f.preemptedNS += tl.preemptedNS
		f.switches += tl.switches
		f.wakeups += tl.wakeups
		f.mismatches += tl.mismatches
	}
	if !clocked {
		f.taskClockNS = 0
	}
	if !counted || len(tls) == 0 {
		f.countedSwitches = -1
	}
	return f
}

// switchSlack is how many switch-outs a thread's context-switches
// counter may differ from its recorded ones by without a record being
// lost: the counter runs from Start, the window from the gate opening.
const switchSlack = 2

// recordsMissing reports whether fewer switch-outs were recorded than
// the context-switches counter counted; unknown counts say yes.
func (f wallFigures) recordsMissing() bool {
	return f.countedSwitches < 0 || f.countedSwitches > int64(f.switches)+switchSlack
}

// housekeepingNS is how much task-clock may exceed the switch-timestamp
// on-CPU time per switch: the perf work between a context switch and its
// PERF_RECORD_SWITCH, about 5 µs on a VM without a PMU.
const housekeepingNS = 10000

// disagrees reports whether on-CPU time from the switch timestamps and
// the task-clock counter differ by more than 5% plus housekeepingNS per
// switch, which means switch records went missing.
func (f wallFigures) disagrees() bool {
	if f.taskClockNS == 0 {
		return false
	}
	d := f.taskClockNS - f.onNS
	tol := f.onNS/20 + int64(f.switches+1)*housekeepingNS
	return d > tol || -d > tol
}

// addWall fills role's wall-view fields from r's timelines: the figures of
// the transfer threads, and a profile of their cpu-clock samples and
// off-CPU intervals (in is the role's cpu-view build input).
func (p *Profiler) addWall(r *roleState, role *Role, in buildInput) {
	if r.wall == nil {
		return
	}
	tls := transferThreads(r.wall.timelines)
	f := sumFigures(tls)
	role.WallNanos, role.OnCPUNanos, role.OffCPUNanos = f.wallNS, f.onNS, f.offNS
	role.PreemptedNanos = f.preemptedNS
	role.Switches, role.Wakeups = f.switches, f.wakeups
	keep := make(map[[2]uint32]bool, len(tls))
	var tids []string
	for _, tl := range tls {
		keep[[2]uint32{tl.pid, tl.tid}] = true
		tids = append(tids, fmt.Sprint(tl.tid))
	}
	var stacks []*stack
	for _, tl := range tls {
		stacks = append(stacks, onCPUStacks(tl, r.agg.order)...)
	}
	for _, tl := range tls {
		stacks = append(stacks, tl.off.order...)
	}
	for _, s := range stacks { // off-CPU stacks and unsampled runs: the thread's latest name
		if s.comm == "" {
			s.comm = p.tasks.commOf(s.pid, s.tid)
		}
	}
	// Lost cpu-clock samples are inside the on-CPU time already; the cpu
	// profile keeps them under [lost].
	in.stacks, in.wall, in.lost = stacks, true, 0
	in.comments = append(append([]string(nil), in.comments...),
		fmt.Sprintf("wall: threads %s; wall %d ns = on-CPU %d ns + off-CPU %d ns (%d ns of it preempted), from context-switch timestamps; task-clock %d ns; %d switch-outs, %d wakeups; %d cpu-clock samples lost",
			strings.Join(tids, ","), f.wallNS, f.onNS, f.offNS, f.preemptedNS, f.taskClockNS, f.switches, f.wakeups, r.lost),
		"wall: cpu/nanoseconds is the on-CPU time from the switch timestamps, spread over the stacks in proportion to their cpu-clock samples (samples/count keeps the raw sample counts); offcpu/nanoseconds is each switch-out to switch-in interval, charged to the stack at switch-out")
	if p.wake.rec != nil || anyWake(tls) {
		in.comments = append(in.comments, "wall: wakeup/nanoseconds is the part of each sleep from its wake-up (sched:"+wakeTracepoint+") until the thread ran again, charged to the stack it slept in; the wakers are in MODE.ROLE.wakers.pb.gz")
	}
	role.Wall = buildProfile(p.sym, in)
	markNoStack(role.Wall)
	p.addWakes(tls, role, in)
}

// anyWake reports whether the wake-ups of any of tls were recorded.
func anyWake(tls []*timeline) bool {
	for _, tl := range tls {
		if tl.wake != nil {
			return true
		}
	}
	return false
}

// onCPUStacks returns tl's cpu-clock stacks from all with their
// cpu/nanoseconds rescaled to sum to tl's on-CPU time: the samples say
// where the thread ran, the switch timestamps how long. On-CPU time with
// no sample at all (a run shorter than a sampling period) gets a stack
// without frames.
func onCPUStacks(tl *timeline, all []*stack) []*stack {
	var out []*stack
	var sum int64
	for _, s := range all {
		if s.pid == tl.pid && s.tid == tl.tid {
			c := *s
			out = append(out, &c)
			sum += s.cpuNS
		}
	}
	if sum == 0 {
		for _, s := range out {
			s.cpuNS = 0
		}
		if tl.onNS > 0 {
			out = append(out, &stack{pid: tl.pid, tid: tl.tid, cpu: -1, cpuNS: tl.onNS})
		}
		return out
	}
	var given int64
	big := out[0]
	for _, s := range out {
		if s.cpuNS > big.cpuNS {
			big = s
		}
		s.cpuNS = int64(float64(s.cpuNS) * float64(tl.onNS) / float64(sum))
		given += s.cpuNS
	}
	big.cpuNS += tl.onNS - given // rounding
	return out
}

// markNoStack gives samples without a stack a frame that says why, so
// pprof shows their time instead of an empty stack: offNoStackFrame for
// off-CPU time, onNoSampleFrame for on-CPU time.
func markNoStack(prof *pprof.Profile) {
	locs := map[string]*pprof.Location{}
	for _, s := range prof.Sample {
		if len(s.Location) > 0 || len(s.Value) < 3 {
			continue
		}
		name := onNoSampleFrame
		switch {
		case s.Value[2] > 0:
			name = offNoStackFrame
		case s.Value[1] == 0:
			continue
		}
		loc := locs[name]
		if loc == nil {
			fn := &pprof.Function{ID: uint64(len(prof.Function) + 1), Name: name, SystemName: name}
			prof.Function = append(prof.Function, fn)
			loc = &pprof.Location{ID: uint64(len(prof.Location) + 1), Line: []pprof.Line{{Function: fn}}}
			prof.Location = append(prof.Location, loc)
			locs[name] = loc
		}
		s.Location = []*pprof.Location{loc}
	}
}

// disagreement says why on-CPU time from the switch timestamps and the
// task-clock counter disagree. When every switch-out the counter counted
// was recorded and task-clock is the larger, the difference is perf's
// own work at each switch, which falls between the switch records'
// timestamps and the counter's start and stop (the switch-out record is
// written before the thread's events are scheduled out, the switch-in
// record after they are scheduled in): a few µs a switch on hardware,
// tens to hundreds under emulation. Otherwise records went missing.
func (f wallFigures) disagreement(role string) string {
	if d := f.taskClockNS - f.onNS; d > 0 && !f.recordsMissing() {
		return fmt.Sprintf("%s: task-clock (%d ns) exceeds the on-CPU time from context-switch timestamps (%d ns) by %.1fµs a switch: perf's own work at each of the %d switches, which the records' timestamps leave out (every switch-out the context-switches counter counted was recorded)",
			role, f.taskClockNS, f.onNS, float64(d)/float64(f.switches+1)/1e3, f.switches)
	}
	counts := ""
	if f.countedSwitches >= 0 {
		counts = fmt.Sprintf(" (%d switch-outs recorded, %d counted)", f.switches, f.countedSwitches)
	}
	return fmt.Sprintf("%s: on-CPU time from context-switch timestamps (%d ns) and the task-clock counter (%d ns) disagree by more than 5%%; switch records may be missing%s",
		role, f.onNS, f.taskClockNS, counts)
}

// wallWarnings lists, per role, what makes the wall view's split
// approximate: lost or undecodable switch records.
func (p *Profiler) wallWarnings() []string {
	var w []string
	for _, r := range p.roles {
		if r.wall == nil {
			continue
		}
		f := sumFigures(r.wall.timelines)
		if r.wall.lost > 0 || f.mismatches > 0 {
			w = append(w, fmt.Sprintf("%s: %d context-switch records lost (%d unpaired switches); the on/off-CPU split is approximate", r.name, r.wall.lost, f.mismatches))
		}
		if t := sumFigures(transferThreads(r.wall.timelines)); t.disagrees() {
			w = append(w, t.disagreement(r.name))
		}
		if r.wall.bad > 0 {
			w = append(w, fmt.Sprintf("%s: %d context-switch records could not be decoded", r.name, r.wall.bad))
		}
	}
	return w
}
