package profile

import (
	"errors"
	"fmt"

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
