package profile

import (
	"context"
	"errors"
	"fmt"

	perf "github.com/elastic/go-perf"
	"golang.org/x/sys/unix"
)

// Sampling rings. The children are sampled with one CPU-wide cpu-clock
// event per CPU they may run on, and samples are told apart by pid. A
// per-thread sampling event would be cheaper to read but not to run: the
// kernel stops its hrtimer when the thread is switched out and rearms it
// when the thread comes back, two timer reprogrammings per context switch,
// and the blocking modes switch tens of thousands of times a second. In a
// VM each reprogramming exits to the hypervisor. A CPU-wide event's timer
// just runs, so the children pay only for the samples themselves.
// Per-thread events remain the fallback where CPU-wide events are refused
// (kernel.perf_event_paranoid 1 without CAP_PERFMON).
//
// The kernel wakes a ring's reader when half of the ring is full
// (perf_event_attr.wakeup_events 0 without watermark; ring_buffer_init),
// so the sizes below decide how often the profiler's own process runs
// while the children transfer.

// cpuRingPages is the data size of each CPU-wide ring: 2 MiB. A cpu-clock
// sample with a 40-frame callchain takes about 400 bytes, so at 999 Hz the
// reader wakes every 2.5 s per CPU and has as long again to drain before
// anything is lost.
const cpuRingPages = 512

// threadRingPages is the data size of each per-thread ring (the fallback):
// 512 KiB, about 1.3 s of samples at 999 Hz.
const threadRingPages = 128

// smallRingPages is the fallback when the locked-memory limit
// (kernel.perf_event_mlock_kb) refuses a full-size ring.
const smallRingPages = 16

// sampler is one cpu-clock sampling event and its ring.
type sampler struct {
	ev  *perf.Event
	cpu int // -1 for a per-thread sampler
	tid int // -1 for a CPU-wide sampler
	// role is the role of a per-thread sampler. A CPU-wide sampler sees
	// every process on its CPU and finds the role by pid; last is the role
	// of the latest sample that matched, which lost-record counts (whose
	// pid may be any task) are charged to.
	role, last *roleState
}

// name identifies the sampler in messages.
func (s *sampler) name() string {
	if s.cpu >= 0 {
		return fmt.Sprintf("cpu %d", s.cpu)
	}
	return fmt.Sprintf("tid %d", s.tid)
}

// openSampler opens cpu-clock sampling at freqHz on tid (cpu -1) or on
// every task of cpu (tid -1), and maps a ring of pages, or of
// smallRingPages when the locked-memory limit refuses that.
func openSampler(tid, cpu, freqHz, pages int, userOnly bool) (*sampler, []string, error) {
	attr := samplingAttr(freqHz)
	if userOnly {
		excludeKernel(&attr)
	}
	s := &sampler{cpu: cpu, tid: tid}
	ev, err := perf.Open(&attr, tid, cpu, nil)
	if err != nil {
		return nil, nil, openError("cpu-clock", tid, err)
	}
	s.ev = ev
	var warn []string
	if err := ev.MapRingNumPages(pages); err != nil {
		if !errors.Is(err, unix.EPERM) {
			ev.Close()
			return nil, nil, fmt.Errorf("mmap cpu-clock ring %s: %w", s.name(), err)
		}
		if err := ev.MapRingNumPages(smallRingPages); err != nil {
			ev.Close()
			return nil, nil, fmt.Errorf("mmap cpu-clock ring %s: %w (raise kernel.perf_event_mlock_kb or run as root)", s.name(), err)
		}
		warn = append(warn, fmt.Sprintf("cpu-clock: ring of %d pages refused, using %d (raise kernel.perf_event_mlock_kb); samples may be lost", pages, smallRingPages))
	}
	return s, warn, nil
}

// openCPUSamplers opens a CPU-wide sampler on each of cpus. It returns
// an error wrapping EACCES or EPERM when CPU-wide events are not allowed,
// and closes what it opened on any error.
func openCPUSamplers(cpus []int, freqHz int) ([]*sampler, []string, error) {
	var ss []*sampler
	var warns []string
	for _, cpu := range cpus {
		s, w, err := openSampler(-1, cpu, freqHz, cpuRingPages, false)
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

// readRing feeds the records of s until ctx is cancelled (Stop) or, for a
// per-thread sampler, its thread exits; then it disables the event and
// drains what the ring still holds. ReadRawRecord is not safe for
// concurrent use on one event, so each sampler has its own reader.
func (p *Profiler) readRing(ctx context.Context, s *sampler) {
	defer p.readers.Done()
	var raw perf.RawRecord
	for {
		if err := s.ev.ReadRawRecord(ctx, &raw); err != nil {
			break
		}
		p.handleFrom(s, &raw)
	}
	s.ev.Disable() // a CPU-wide ring keeps filling with other tasks' samples
	drain := expiredCtx()
	for s.ev.HasRecord() {
		if err := s.ev.ReadRawRecord(drain, &raw); err != nil {
			return
		}
		p.handleFrom(s, &raw)
	}
}

// handleFrom accounts one record of s to its role: the sampler's own for
// a per-thread sampler, else the role of the record's pid. Records of
// other processes are dropped. A lost-record count whose pid is not a
// child's (it carries whichever task was running when the kernel wrote it)
// goes to the role last sampled on the ring, or to the writer before any.
func (p *Profiler) handleFrom(s *sampler, raw *perf.RawRecord) {
	if s.role != nil {
		p.handle(s.role, raw)
		return
	}
	t := uint32(raw.Header.Type)
	var r *roleState
	if pid, ok := recordPID(t, raw.Data); ok {
		r = p.pidRole[pid]
	}
	switch {
	case r != nil && t == recordSample:
		s.last = r
	case r == nil && (t == recordLost || t == recordLostSamples):
		r = s.last
		if r == nil {
			r = p.roles[0]
		}
	case r == nil:
		return
	}
	p.handle(r, raw)
}

// enableSamplers starts every sampler, back to back with nothing in
// between, so that the cpu-clock timers of all CPUs fire in step: the
// kernel arms a cpu-clock timer when its event is enabled and moves it on
// by whole periods after each sample, so timers enabled a few
// microseconds apart stay that close (TestSamplersFireInStep). It
// matters in a guest like this one, where each timer interrupt stalls
// its CPU for tens of microseconds: in the modes where writer and reader
// take turns, the side that waits sits out every stall of the other, and
// stalls in step overlap instead of adding up. Measured with a bare
// 999 Hz cpu-clock event per CPU beside `pipelab run --mode
// vmsplice-huge`: timers in step kept 0.92-0.94 of the throughput
// without them, timers half a period apart 0.74-0.76. Starting them from
// one thread pinned to each CPU at a common moment was tried and came out
// no closer than this (medians of 6-12µs against 5-33µs).
func enableSamplers(ss []*sampler) error {
	for _, s := range ss {
		if err := s.ev.Enable(); err != nil {
			return fmt.Errorf("enable cpu-clock %s: %w", s.name(), err)
		}
	}
	return nil
}
