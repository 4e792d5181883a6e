package profile

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	perf "github.com/elastic/go-perf"
	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/result"
	"golang.org/x/sys/unix"
)

// Who woke whom. In the wall view the profiler also records every
// sched:sched_waking tracepoint hit (try_to_wake_up, in the waker's
// context) whose wakee is a thread the wall view follows, with the
// waker's kernel and user call stack, through one CPU-wide tracepoint
// event per online CPU: a waker may run anywhere, also in an interrupt.
// The CPU-wide event's kernel filter passes the attached threads as
// wakees. The threads and processes they create later (an external
// command's pipeline, a runtime's new threads) are followed by the
// kernel itself: on each attached thread and CPU the profiler also opens
// an inherited per-task sched_waking event writing into that CPU's ring.
// sched_waking names its wakee as the event's target task (__perf_task
// in include/trace/events/sched.h, since Linux 3.7 for sched_wakeup), so
// a per-task event bound to a CPU records every wake-up of its task done
// on that CPU, whoever the waker, and the kernel copies it into every
// child at fork, before the child first runs: no wake-up of a new thread
// can come before its event, and nothing waits on a fork record. Their
// filter passes every wakee but the attached threads, which the CPU-wide
// events record already. While a followed task runs, its per-task event
// also hears the wake-ups it does itself (the tracepoint's per-CPU
// list), of any wakee: the join takes only the wakees it follows, by
// tid, and the waker's role is looked up then, once the fork records of
// every ring are in.
// After each cycle the wake-ups are joined with the switch records: a
// sleep (a voluntary switch-out to the next switch-in) was ended by the
// last wake-up of the thread after its previous switch-in and before the
// switch-in that ends the sleep. The sleep then splits into waiting
// (switch-out until the wake-up) and wake-up latency (the wake-up until
// the thread runs again); preempted time (involuntary switch-outs) stays
// apart. sched_waking rather than sched_wakeup: since Linux 4.3
// sched_wakeup may fire on the wakee's CPU when the wake-up is queued
// there, which loses the waker.

// wakeTracepoint is the sched tracepoint the wake-ups come from.
const wakeTracepoint = "sched_waking"

// Waker classes besides the roles' names.
const (
	wakerInterrupt   = "interrupt"    // hard or soft interrupt, or NMI
	wakerOther       = "other task"   // a task of neither child
	wakerNotRecorded = "not recorded" // no wake-up found for the sleep
)

// wakerNotRecordedFrame holds, in a wakers profile, sleeps whose wake-up
// was not recorded.
const wakerNotRecordedFrame = "[waker not recorded]"

// Trace entry flags (enum trace_flag_type, kernel/trace/trace.h) in
// common_flags: the tracepoint fired in an interrupt.
const (
	traceFlagHardIRQ = 0x08
	traceFlagSoftIRQ = 0x10
	traceFlagNMI     = 0x40
)

// wakeLayout is where the fields the profiler reads sit in the raw
// payload of sched_waking, from its format file.
type wakeLayout struct {
	flags field // common_flags
	pid   field // pid: the wakee's thread id
}

// layoutFromFormat checks that tf has the fields of a sched wake-up
// tracepoint with the sizes the decoder reads.
func layoutFromFormat(tf tracepointFormat) (wakeLayout, error) {
	var l wakeLayout
	var ok bool
	if l.flags, ok = tf.fields["common_flags"]; !ok || l.flags.size != 1 {
		return l, fmt.Errorf("tracepoint %s: no 1-byte common_flags field", tf.name)
	}
	if l.pid, ok = tf.fields["pid"]; !ok || l.pid.size != 4 {
		return l, fmt.Errorf("tracepoint %s: no 4-byte pid field", tf.name)
	}
	return l, nil
}

// wakeSampleFormat is the PERF_RECORD_SAMPLE layout decodeWake expects.
var wakeSampleFormat = perf.SampleFormat{IP: true, Tid: true, Time: true, Callchain: true, Raw: true}

// wakeSample is one decoded sched_waking sample. chain aliases the
// input buffer.
type wakeSample struct {
	wakerPID, wakerTID uint32
	timeNS             uint64
	chain              []byte
	wakee              uint32
	irq                bool
}

// decodeWake decodes a PERF_RECORD_SAMPLE body of a wake event: u64 ip;
// u32 pid, tid; u64 time; u64 nr; u64 ips[nr]; u32 size; char raw[size],
// with raw laid out as l says.
func decodeWake(d []byte, l wakeLayout, w *wakeSample) error {
	const fixed = 8 + 8 + 8 + 8
	if len(d) < fixed {
		return errShortRecord
	}
	le := binary.LittleEndian
	w.wakerPID, w.wakerTID = le.Uint32(d[8:]), le.Uint32(d[12:])
	w.timeNS = le.Uint64(d[16:])
	nr := le.Uint64(d[24:])
	if nr > uint64(len(d)-fixed)/8 {
		return fmt.Errorf("callchain of %d entries: %w", nr, errShortRecord)
	}
	end := fixed + int(nr)*8
	w.chain = d[fixed:end]
	if len(d) < end+4 {
		return fmt.Errorf("raw size: %w", errShortRecord)
	}
	size := int(le.Uint32(d[end:]))
	raw := d[end+4:]
	if size > len(raw) {
		return fmt.Errorf("raw payload of %d bytes in %d: %w", size, len(raw), errShortRecord)
	}
	raw = raw[:size]
	if l.pid.offset+4 > len(raw) || l.flags.offset+1 > len(raw) {
		return fmt.Errorf("raw payload of %d bytes: %w", size, errShortRecord)
	}
	w.wakee = le.Uint32(raw[l.pid.offset:])
	w.irq = raw[l.flags.offset]&(traceFlagHardIRQ|traceFlagSoftIRQ|traceFlagNMI) != 0
	return nil
}

// kernelPart returns the kernel part of a raw callchain: the entries up
// to the user context marker. An interrupt's user stack belongs to the
// task it interrupted, and a stranger's user frames cannot be named.
func kernelPart(chain []byte) []byte {
	for i := 0; i+8 <= len(chain); i += 8 {
		if binary.LittleEndian.Uint64(chain[i:]) == contextUser {
			return chain[:i]
		}
	}
	return chain
}

// wake is one recorded wake-up of a followed thread.
type wake struct {
	tNS   int64
	wakee uint32
	// class is the waker: a role's name, wakerInterrupt or wakerOther;
	// "" until the join classifies it (classify).
	class string
	irq   bool   // the waker is an interrupt
	pid   uint32 // the waker's (the interrupted task's for an interrupt)
	tid   uint32
	chain []byte // the waker's callchain, a copy
}

// wakeEvent is the sched_waking event of one CPU, and the inherited
// per-task events that write into its ring (follow).
type wakeEvent struct {
	ev     *perf.Event
	follow []*perf.Event
	cpu    int
	lost   uint64
	bad    int
}

// wakeRecorder records the wake-ups of the followed threads of one cycle.
type wakeRecorder struct {
	id     uint64
	layout wakeLayout
	events []*wakeEvent

	mu     sync.Mutex
	wakee  map[uint32]bool   // the followed threads
	byTid  map[uint32][]wake // wake-ups of this cycle, by wakee
	lost   uint64            // over cycles
	bad    int               // over cycles
	filter bool              // the kernel filters by wakee
	// followErr says why the threads created since the attach are not
	// followed; nil when they are.
	followErr error
}

// openWakes opens the wake-up recording of the current cycle on every
// online CPU, for wakees tids. It returns an error with the setting that
// is missing when the tracepoint cannot be opened; nothing stays open.
var openWakes = func(tids []int) (*wakeRecorder, error) {
	dir, err := TracefsDir()
	if err != nil {
		return nil, err
	}
	id, tf, err := readTracepoint(dir, "sched", wakeTracepoint)
	if err != nil {
		return nil, err
	}
	l, err := layoutFromFormat(tf)
	if err != nil {
		return nil, err
	}
	cpus, err := onlineCPUs()
	if err != nil {
		return nil, err
	}
	w := &wakeRecorder{id: id, layout: l, wakee: map[uint32]bool{}, byTid: map[uint32][]wake{}, filter: true}
	for _, t := range tids {
		w.wakee[uint32(t)] = true
	}
	for _, cpu := range cpus {
		ev, err := openWakeEvent(id, cpu, pidFilter(tids))
		if errors.Is(err, errNoFilter) {
			w.filter = false
			err = nil
		}
		if err != nil {
			w.close()
			return nil, err
		}
		w.events = append(w.events, &wakeEvent{ev: ev, cpu: cpu})
	}
	if w.filter && len(tids) > 0 {
		w.followErr = w.openFollow(tids)
	}
	return w, nil
}

// openFollow opens, on each of tids and each CPU, the inherited per-task
// sched_waking event that records the wake-ups of the threads tids
// create, into the CPU's ring. On error it closes what it opened.
func (w *wakeRecorder) openFollow(tids []int) error {
	filter := exceptFilter(tids)
	for _, we := range w.events {
		for _, tid := range tids {
			ev, err := openFollowEvent(w.id, tid, we, filter)
			if err != nil {
				for _, we := range w.events {
					closeAll(we.follow)
					we.follow = nil
				}
				return err
			}
			we.follow = append(we.follow, ev)
		}
	}
	return nil
}

// openFollowEvent opens the inherited sched_waking event of task tid on
// we's CPU, with its output in we's ring (PERF_EVENT_IOC_SET_OUTPUT: same
// CPU and clock) and filter set.
func openFollowEvent(id uint64, tid int, we *wakeEvent, filter string) (*perf.Event, error) {
	attr := wakeAttr(id)
	attr.Options.Inherit = true
	ev, err := perf.Open(&attr, tid, we.cpu, nil)
	if err != nil {
		return nil, openError("sched:"+wakeTracepoint+" inherited cpu "+strconv.Itoa(we.cpu), tid, err)
	}
	if err := ev.SetOutput(we.ev); err != nil {
		ev.Close()
		return nil, fmt.Errorf("sched:%s tid %d cpu %d: output into the CPU's ring: %w", wakeTracepoint, tid, we.cpu, err)
	}
	if err := setFilter(ev, filter); err != nil {
		ev.Close()
		return nil, fmt.Errorf("sched:%s tid %d cpu %d: filter %q: %w", wakeTracepoint, tid, we.cpu, filter, err)
	}
	return ev, nil
}

// closeAll closes evs.
func closeAll(evs []*perf.Event) {
	for _, ev := range evs {
		ev.Close()
	}
}

// errNoFilter says the kernel refused the tracepoint filter; the event is
// open and records every wake-up on its CPU.
var errNoFilter = errors.New("tracepoint filter refused")

// wakeAttr configures a sched_waking event: a sample at every hit with
// the waker's callchain and the raw payload, CLOCK_MONOTONIC timestamps
// like the switch events.
func wakeAttr(id uint64) perf.Attr {
	a := perf.Attr{
		Label:        "sched:" + wakeTracepoint,
		Type:         perf.TracepointEvent,
		Config:       id,
		SampleFormat: wakeSampleFormat,
		ClockID:      unix.CLOCK_MONOTONIC,
		Options:      perf.Options{Disabled: true, UseClockID: true},
	}
	a.SetSamplePeriod(1)
	return a
}

// openWakeEvent opens and maps the sched_waking event of cpu and sets
// filter on it. It returns the open event and errNoFilter when the
// filter alone is refused.
func openWakeEvent(id uint64, cpu int, filter string) (*perf.Event, error) {
	attr := wakeAttr(id)
	ev, err := perf.Open(&attr, perf.AllThreads, cpu, nil)
	if err != nil {
		return nil, fmt.Errorf("%w (CPU-wide tracepoints need root, CAP_PERFMON or kernel.perf_event_paranoid=-1)", openError("sched:"+wakeTracepoint+" cpu "+strconv.Itoa(cpu), -1, err))
	}
	if err := ev.MapRingNumPages(cpuRingPages); err != nil {
		if err = ev.MapRingNumPages(smallRingPages); err != nil {
			ev.Close()
			return nil, fmt.Errorf("mmap sched:%s ring cpu %d: %w (raise kernel.perf_event_mlock_kb or run as root)", wakeTracepoint, cpu, err)
		}
	}
	if filter != "" && setFilter(ev, filter) != nil {
		return ev, errNoFilter
	}
	return ev, nil
}

// pidFilter is a tracepoint filter that passes wake-ups of tids only.
func pidFilter(tids []int) string {
	parts := make([]string, len(tids))
	for i, t := range tids {
		parts[i] = "pid == " + strconv.Itoa(t)
	}
	return strings.Join(parts, " || ")
}

// exceptFilter is a tracepoint filter that passes wake-ups of every
// thread but tids: the complement of pidFilter(tids).
func exceptFilter(tids []int) string {
	parts := make([]string, len(tids))
	for i, t := range tids {
		parts[i] = "pid != " + strconv.Itoa(t)
	}
	return strings.Join(parts, " && ")
}

// setFilter sets a tracepoint filter (PERF_EVENT_IOC_SET_FILTER, since
// Linux 2.6.33) on ev.
func setFilter(ev *perf.Event, filter string) error {
	fd, err := ev.FD()
	if err != nil {
		return err
	}
	b, err := unix.BytePtrFromString(filter)
	if err != nil {
		return err
	}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.PERF_EVENT_IOC_SET_FILTER, uintptr(unsafe.Pointer(b)))
	if errno != 0 {
		return errno
	}
	return nil
}

// onlineCPUs reads /sys/devices/system/cpu/online.
func onlineCPUs() ([]int, error) {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return nil, fmt.Errorf("online CPUs: %w", err)
	}
	cpus, err := parseCPUList(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("online CPUs: %w", err)
	}
	return cpus, nil
}

// parseCPUList parses a kernel CPU list such as "0-3,8,10-11".
func parseCPUList(s string) ([]int, error) {
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("cpu list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("cpu list %q: %w", s, err)
			}
		}
		if a < 0 || b < a || b-a > 1<<16 {
			return nil, fmt.Errorf("cpu list %q: bad range %q", s, part)
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// enable starts every event.
func (w *wakeRecorder) enable() error {
	for _, we := range w.events {
		if err := we.ev.Enable(); err != nil {
			return fmt.Errorf("enable sched:%s cpu %d: %w", wakeTracepoint, we.cpu, err)
		}
		for _, ev := range we.follow {
			if err := ev.Enable(); err != nil {
				return fmt.Errorf("enable sched:%s inherited cpu %d: %w", wakeTracepoint, we.cpu, err)
			}
		}
	}
	return nil
}

// close closes the events of the cycle and keeps their counts.
func (w *wakeRecorder) close() {
	for _, we := range w.events {
		closeAll(we.follow)
		we.follow = nil
		we.ev.Close()
		w.lost += we.lost
		w.bad += we.bad
	}
	w.events = nil
}

// read feeds one CPU's wake ring until ctx is cancelled, then disables
// the event and drains the ring.
func (p *Profiler) readWakes(ctx context.Context, w *wakeRecorder, we *wakeEvent) {
	defer p.readers.Done()
	var raw perf.RawRecord
	for {
		if err := we.ev.ReadRawRecord(ctx, &raw); err != nil {
			break
		}
		p.handleWake(w, we, &raw)
	}
	for _, ev := range we.follow {
		ev.Disable()
	}
	we.ev.Disable()
	drain := expiredCtx()
	for we.ev.HasRecord() {
		if err := we.ev.ReadRawRecord(drain, &raw); err != nil {
			return
		}
		p.handleWake(w, we, &raw)
	}
}

// handleWake keeps one wake-up record. Without the kernel's filter, it
// keeps only those of the attached threads, as the CPU-wide events then
// see every wake-up on their CPUs.
func (p *Profiler) handleWake(w *wakeRecorder, we *wakeEvent, raw *perf.RawRecord) {
	if fixtureTap != nil {
		fixtureTap.wakeRecord(we.cpu, raw)
	}
	switch uint32(raw.Header.Type) {
	case recordLost:
		var rec record
		if decodeLost(raw.Data, 8, &rec) == nil {
			we.lost += rec.lost
		}
		return
	case recordSample:
	default:
		return
	}
	var s wakeSample
	if err := decodeWake(raw.Data, w.layout, &s); err != nil {
		we.bad++
		return
	}
	if !w.filter && !w.wakee[s.wakee] {
		return
	}
	wk := wake{tNS: int64(s.timeNS), wakee: s.wakee, irq: s.irq, pid: s.wakerPID, tid: s.wakerTID}
	wk.chain = append([]byte(nil), s.chain...)
	w.mu.Lock()
	w.byTid[s.wakee] = append(w.byTid[s.wakee], wk)
	w.mu.Unlock()
}

// sleep is one voluntary off-CPU interval of a timeline: switch-out at
// outNS, back on a CPU at inNS (or the window's end), the thread's
// previous switch-in at prevInNS; st is the off-CPU stack it was charged
// to.
type sleep struct {
	outNS, inNS, prevInNS int64
	st                    *stack
}

// wakeSplit is a role's off-CPU time split by the wake-ups, summed over
// its transfer threads and cycles.
type wakeSplit struct {
	waitingNS, latencyNS int64
	latencies            []int64 // one per sleep with a recorded wake-up
	byClass              map[string]*result.WakerShare
	wakers               map[string]*stack // waker stacks, by class+pid+tid+chain
	order                []*stack
}

func newWakeSplit() *wakeSplit {
	return &wakeSplit{byClass: map[string]*result.WakerShare{}, wakers: map[string]*stack{}}
}

// join splits the sleeps of tl by wakes (tl's wake-ups, any order) into
// s, and charges each wake-up's latency to the sleep's off-CPU stack.
func (s *wakeSplit) join(tl *timeline, wakes []wake) {
	sort.SliceStable(wakes, func(i, j int) bool { return wakes[i].tNS < wakes[j].tNS })
	j := 0
	for _, sl := range tl.sleeps {
		for j < len(wakes) && wakes[j].tNS <= sl.prevInNS {
			j++
		}
		k := -1
		for j < len(wakes) && wakes[j].tNS <= sl.inNS {
			k = j
			j++
		}
		d := sl.inNS - sl.outNS
		if k < 0 {
			s.waitingNS += d
			s.charge(nil, d, 0)
			continue
		}
		w := &wakes[k]
		at := max(w.tNS, sl.outNS)
		lat := sl.inNS - at
		s.waitingNS += at - sl.outNS
		s.latencyNS += lat
		s.latencies = append(s.latencies, lat)
		if sl.st != nil {
			sl.st.wakeNS += lat
		}
		s.charge(w, d, lat)
	}
}

// charge adds a sleep of d nanoseconds, lat of it wake-up latency, to the
// waker w's class and stack (w nil: not recorded).
func (s *wakeSplit) charge(w *wake, d, lat int64) {
	class, key := wakerNotRecorded, wakerNotRecorded
	var pid, tid uint32
	var chain []byte
	if w != nil {
		class, pid, tid, chain = w.class, w.pid, w.tid, w.chain
		key = class + "\x00" + strconv.Itoa(int(pid)) + "\x00" + strconv.Itoa(int(tid)) + "\x00" + string(chain)
	}
	c := s.byClass[class]
	if c == nil {
		c = &result.WakerShare{Waker: class}
		s.byClass[class] = c
	}
	c.Sleeps++
	c.SleepNanos += d
	c.WakeupNanos += lat
	st := s.wakers[key]
	if st == nil {
		st = &stack{pid: pid, tid: tid, cpu: -1, waker: class, chain: make([]uint64, len(chain)/8)}
		for i := range st.chain {
			st.chain[i] = binary.LittleEndian.Uint64(chain[i*8:])
		}
		s.wakers[key] = st
		s.order = append(s.order, st)
	}
	st.samples++
	st.offNS += d
	st.wakeNS += lat
}

// WakeFigures is what the wake-up recording found for one role (wall
// view). Sleeps are the voluntary off-CPU intervals of the role's
// transfer threads; OffCPUNanos = WaitingNanos + WakeupNanos +
// PreemptedNanos.
type WakeFigures struct {
	// WaitingNanos is the time from switch-out until the wake-up (the
	// whole sleep when its wake-up was not recorded); WakeupNanos the
	// time from the wake-up until running again.
	WaitingNanos, WakeupNanos int64
	// Latency is the wake-up latency's distribution over the sleeps with
	// a recorded wake-up.
	Latency Latency
	// Wakers share out the sleeps by who ended them, most sleep first.
	Wakers []result.WakerShare
	// Lost is how many wake-up records the rings dropped, over both roles.
	Lost uint64
}

// Summary is what a step saves of the figures (result.WakeSummary); the
// wakers' From, which needs the wakers profile read back, is left empty.
func (f *WakeFigures) Summary() *result.WakeSummary {
	return &result.WakeSummary{WaitingNanos: f.WaitingNanos, WakeupNanos: f.WakeupNanos, Sleeps: f.Latency.Count,
		LatencyMedianNanos: f.Latency.MedianNanos, LatencyP90Nanos: f.Latency.P90Nanos, LatencyP99Nanos: f.Latency.P99Nanos,
		Wakers: append([]result.WakerShare(nil), f.Wakers...), Lost: f.Lost}
}

// Latency is a distribution of wake-up latencies in nanoseconds
// (nearest-rank percentiles).
type Latency struct {
	Count                           int
	MedianNanos, P90Nanos, P99Nanos int64
	MinNanos, MaxNanos, MeanNanos   int64
}

// latency computes the distribution of ns (sorted in place).
func latency(ns []int64) Latency {
	if len(ns) == 0 {
		return Latency{}
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	var sum int64
	for _, v := range ns {
		sum += v
	}
	rank := func(q float64) int64 {
		i := int(q*float64(len(ns))+0.999999999) - 1
		return ns[min(max(i, 0), len(ns)-1)]
	}
	return Latency{
		Count: len(ns), MedianNanos: rank(0.5), P90Nanos: rank(0.9), P99Nanos: rank(0.99),
		MinNanos: ns[0], MaxNanos: ns[len(ns)-1], MeanNanos: sum / int64(len(ns)),
	}
}

// figures turns the split into a role's WakeFigures.
func (s *wakeSplit) figures(lost uint64) *WakeFigures {
	f := &WakeFigures{WaitingNanos: s.waitingNS, WakeupNanos: s.latencyNS, Lost: lost}
	f.Latency = latency(append([]int64(nil), s.latencies...))
	for _, c := range s.byClass {
		f.Wakers = append(f.Wakers, *c)
	}
	sort.Slice(f.Wakers, func(i, j int) bool {
		a, b := f.Wakers[i], f.Wakers[j]
		if a.SleepNanos != b.SleepNanos {
			return a.SleepNanos > b.SleepNanos
		}
		return a.Waker < b.Waker
	})
	return f
}

// wakersTypes are the sample types of a wakers profile: the sleeps a
// waker stack ended, their wake-up latency, and their length (the
// default, last).
func wakersTypes() []*pprof.ValueType {
	return []*pprof.ValueType{
		{Type: "wakeups", Unit: "count"},
		{Type: "wakeup", Unit: "nanoseconds"},
		{Type: "sleep", Unit: "nanoseconds"},
	}
}

// merge adds o's figures to s.
func (s *wakeSplit) merge(o *wakeSplit) {
	s.waitingNS += o.waitingNS
	s.latencyNS += o.latencyNS
	s.latencies = append(s.latencies, o.latencies...)
	for k, c := range o.byClass {
		m := s.byClass[k]
		if m == nil {
			m = &result.WakerShare{Waker: k}
			s.byClass[k] = m
		}
		m.Sleeps += c.Sleeps
		m.SleepNanos += c.SleepNanos
		m.WakeupNanos += c.WakeupNanos
	}
	s.order = append(s.order, o.order...)
}

// wakersProfile builds the wakers profile of a role from its split: one
// sample per waker stack, labelled with the waker's class; in is the
// role's cpu-view build input.
func (p *Profiler) wakersProfile(s *wakeSplit, in buildInput) *pprof.Profile {
	in.stacks, in.wall, in.wakers, in.lost = s.order, false, true, 0
	in.comments = append(append([]string(nil), in.comments...),
		fmt.Sprintf("wakers: the stacks that woke the %s (sched:%s, the waker's kernel and user stack; kernel only for an interrupt or another task), each weighted by the sleep it ended (sleep/nanoseconds) and that sleep's wake-up latency (wakeup/nanoseconds); label waker is the waker's role, %q or %q; pid and tid are the waker's", in.role, wakeTracepoint, wakerInterrupt, wakerOther))
	prof := buildProfile(p.sym, in)
	var loc *pprof.Location
	for _, smp := range prof.Sample {
		if len(smp.Location) > 0 || smp.Label["waker"][0] != wakerNotRecorded {
			continue
		}
		if loc == nil {
			fn := &pprof.Function{ID: uint64(len(prof.Function) + 1), Name: wakerNotRecordedFrame, SystemName: wakerNotRecordedFrame}
			prof.Function = append(prof.Function, fn)
			loc = &pprof.Location{ID: uint64(len(prof.Location) + 1), Line: []pprof.Line{{Function: fn}}}
			prof.Location = append(prof.Location, loc)
		}
		smp.Location = []*pprof.Location{loc}
	}
	return prof
}

// wakeState is the profiler's wake-up recording over cycles.
type wakeState struct {
	rec     *wakeRecorder // of the current cycle; nil when not recording
	refused bool          // the tracepoint was refused: do not try again
	lost    uint64
	bad     int
}

// startWakes opens and starts the wake-up recording for the threads the
// wall view follows in this cycle. A refused tracepoint is one warning;
// the wall view goes on without wakers.
func (p *Profiler) startWakes(ctx context.Context) {
	if p.wake.refused {
		return
	}
	var tids []int
	for _, r := range p.roles {
		if r.wall != nil {
			for _, se := range r.wall.events {
				tids = append(tids, int(se.tl.tid))
			}
		}
	}
	// A thread has one switch event per CPU it may run on: take it once.
	slices.Sort(tids)
	tids = slices.Compact(tids)
	if len(tids) == 0 {
		return
	}
	rec, err := openWakes(tids)
	if err != nil {
		p.wake.refused = true
		p.warn(fmt.Sprintf("wall view: wake-ups not recorded, so no wakers and no wake-up latency: %v", err))
		return
	}
	if rec.followErr != nil {
		p.warn(fmt.Sprintf("wall view: wake-ups of the threads and processes the children create are not recorded (their sleeps show no waker): %v", rec.followErr))
	}
	p.wake.rec = rec
	for _, we := range rec.events {
		p.readers.Add(1)
		go p.readWakes(ctx, rec, we)
	}
}

// enableWakes enables the wake-up events of the cycle.
func (p *Profiler) enableWakes() error {
	if p.wake.rec == nil {
		return nil
	}
	return p.wake.rec.enable()
}

// joinWakes splits the sleeps of tl by the cycle's wake-ups. Call it
// after the readers are done.
func (p *Profiler) joinWakes(tl *timeline) {
	rec := p.wake.rec
	if rec == nil {
		return
	}
	if fixtureTap != nil {
		fixtureTap.windowEnd(tl)
	}
	wakes := rec.byTid[tl.tid]
	p.classify(wakes)
	tl.wake = newWakeSplit()
	tl.wake.join(tl, wakes)
}

// classify names the waker of each of wakes not yet classified: an
// interrupt, the role its process belongs to through its line of parents
// (a process a child forked during the transfer whose fork record came
// in after its wake-ups, too), or another task. An interrupt's or a
// stranger's callchain keeps its kernel part only. Call it once the
// rings are drained and settled.
func (p *Profiler) classify(wakes []wake) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range wakes {
		w := &wakes[i]
		if w.class != "" {
			continue
		}
		switch r := p.roleOf(w.pid); {
		case w.irq:
			w.class, w.chain = wakerInterrupt, kernelPart(w.chain)
		case r != nil:
			w.class = r.name
		default:
			w.class, w.chain = wakerOther, kernelPart(w.chain)
		}
	}
}

// stopWakes closes the cycle's wake-up events.
func (p *Profiler) stopWakes() {
	if rec := p.wake.rec; rec != nil {
		rec.close()
		p.wake.lost += rec.lost
		p.wake.bad += rec.bad
		p.wake.rec = nil
	}
}

// addWakes fills role's wake-up figures and wakers profile from the
// transfer threads tls; nothing when the wake-ups were not recorded.
func (p *Profiler) addWakes(tls []*timeline, role *Role, in buildInput) {
	all := mergeWakes(tls)
	if all == nil {
		return
	}
	role.Wake = all.figures(p.wake.lost)
	role.Wakers = p.wakersProfile(all, in)
}

// mergeWakes merges the wake-up splits of tls; nil when none was
// recorded.
func mergeWakes(tls []*timeline) *wakeSplit {
	var all *wakeSplit
	for _, tl := range tls {
		if tl.wake == nil {
			continue
		}
		if all == nil {
			all = newWakeSplit()
		}
		all.merge(tl.wake)
	}
	return all
}

// wakeWarnings says what makes the wakers approximate.
func (p *Profiler) wakeWarnings() []string {
	var w []string
	if p.wake.lost > 0 {
		w = append(w, fmt.Sprintf("wall view: %d wake-up records lost; their sleeps count as waiting with the waker not recorded", p.wake.lost))
	}
	if p.wake.bad > 0 {
		w = append(w, fmt.Sprintf("wall view: %d wake-up records could not be decoded", p.wake.bad))
	}
	return w
}

// ProbeWakeups opens the wake-up recording's tracepoint event on every
// online CPU and closes it. It returns nil when the wall view can record
// who woke whom here, else the error with the setting that is missing
// (wrapping ErrNoTracefs when tracefs is not mounted).
func ProbeWakeups() error {
	w, err := openWakes(nil)
	if err != nil {
		return err
	}
	w.close()
	return nil
}
