package profile

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	perf "github.com/elastic/go-perf"
	"golang.org/x/sys/unix"
)

// The sampled event is chosen by what can sample, not by what can count.
// A PMU may count cycles and still refuse to sample them: one without an
// overflow interrupt (the kernel then refuses every sampling event of it
// with EOPNOTSUPP, PERF_PMU_CAP_NO_INTERRUPT). So the choice opens the
// very sampling event profile would open and waits for a sample.

// PMU is what this machine's hardware performance counters allow.
type PMU int

const (
	// PMUNone: cycles does not open; software events only (a VM without
	// a virtual PMU).
	PMUNone PMU = iota
	// PMUCounts: cycles counts but cannot be sampled.
	PMUCounts
	// PMUSamples: cycles counts and samples.
	PMUSamples
)

// String is how results and doctor name the state: "software only",
// "counts, cannot sample" or "hardware".
func (s PMU) String() string {
	switch s {
	case PMUCounts:
		return "counts, cannot sample"
	case PMUSamples:
		return "hardware"
	}
	return "software only"
}

// ProbePMU says what the cycles counter allows here. The error says why
// the state is not PMUSamples: the counting event's or the sampling
// event's perf_event_open failure, or samples that never came.
func ProbePMU() (PMU, error) {
	if err := ProbeHardwareCounters(); err != nil {
		return PMUNone, err
	}
	if err := ProbeSampling(EventCycles); err != nil {
		return PMUCounts, err
	}
	return PMUSamples, nil
}

// probeWait is how long ProbeSampling keeps its thread busy waiting for
// a first sample. A cycles event at a frequency starts with a period of
// one cycle, so a PMU that samples at all delivers one at once; cpu-clock
// fires after one period of the probe's frequency.
const probeWait = 500 * time.Millisecond

// probeFreqHz is the frequency ProbeSampling samples at (less where
// kernel.perf_event_max_sample_rate is lower).
const probeFreqHz = 1000

// ProbeSampling samples the calling thread with event (EventCycles or
// EventCPUClock) as profile samples the children, kernel side excluded
// when the kernel refuses it, and keeps the thread busy until a sample
// arrives. It returns nil once one does, and an error wrapping
// ErrNotSupported when the event does not open here or no sample came
// within half a second.
func ProbeSampling(event string) error {
	runtime.LockOSThread() // the event follows this thread only
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	freq := probeFreqHz
	if max, err := MaxSampleRate(); err == nil && max < freq {
		freq = max
	}
	attr := samplingAttr(event, freq)
	ev, err := openSampling(&attr, tid, perf.AnyCPU)
	if refused(err) {
		excludeKernel(&attr)
		ev, err = openSampling(&attr, tid, perf.AnyCPU)
	}
	if err != nil {
		return samplingOpenError(event, tid, err)
	}
	defer ev.Close()
	if err := ev.MapRingNumPages(8); err != nil {
		return fmt.Errorf("probe %s sampling: mmap ring: %w", event, err)
	}
	if err := ev.Enable(); err != nil {
		return fmt.Errorf("probe %s sampling: %w", event, err)
	}
	defer ev.Disable()
	x := uint64(1)
	for end := time.Now().Add(probeWait); time.Now().Before(end); {
		for i := 0; i < 100000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		if gotSample(ev) {
			return nil
		}
	}
	probeSink = x
	return fmt.Errorf("probe %s sampling pid %d: %w: %w", event, tid, ErrNotSupported, errNoSample)
}

// errNoSample is wrapped by ProbeSampling's error when the event opened
// but delivered nothing.
var errNoSample = fmt.Errorf("opened, but no sample came in %v (its overflow interrupt does not reach this kernel)", probeWait)

// probeSink keeps ProbeSampling's busy loop from being optimized away.
var probeSink uint64

// gotSample reports whether ev's ring holds a sample, reading what it holds.
func gotSample(ev *perf.Event) bool {
	var raw perf.RawRecord
	for ev.HasRecord() {
		if ev.ReadRawRecord(expiredCtx(), &raw) != nil {
			return false
		}
		if raw.Header.Type == perf.RecordTypeSample {
			return true
		}
	}
	return false
}

// openSampling opens the sampling event attr on pid and cpu. arm's PMU
// drivers cannot leave the idle task out of a hardware event and refuse
// exclude_idle with EOPNOTSUPP (armv8pmu_set_event_filter); the event is
// then opened with idle included, whose samples no role claims (pid 0),
// and attr says so.
func openSampling(attr *perf.Attr, pid, cpu int) (*perf.Event, error) {
	ev, err := perf.Open(attr, pid, cpu, nil)
	if errors.Is(err, unix.EOPNOTSUPP) && attr.Options.ExcludeIdle {
		attr.Options.ExcludeIdle = false
		if ev, err2 := perf.Open(attr, pid, cpu, nil); err2 == nil {
			return ev, nil
		}
		attr.Options.ExcludeIdle = true
	}
	return ev, err
}

// chooseEvent settles cfg.Event from what pmu reports (ProbePMU on a real
// machine): "" takes cycles where cycles samples, else cpu-clock, and
// returns why; cycles asked for where it cannot sample is refused, saying
// why.
func chooseEvent(cfg *Config, pmu func() (PMU, error)) (reason string, err error) {
	switch cfg.Event {
	case EventCPUClock:
		return "", nil
	case EventCycles, "":
	default:
		return "", &ConfigError{Field: "Event", Value: cfg.Event, Problem: "unknown event", Remedy: "want cycles or cpu-clock"}
	}
	state, perr := pmu()
	if state == PMUSamples {
		cfg.Event = EventCycles
		return "", nil
	}
	if cfg.Event == EventCycles {
		if state == PMUCounts {
			return "", &ConfigError{Field: "Event", Value: EventCycles, Problem: "the PMU counts cycles but cannot sample them (" + errnoText(perr) + ")",
				Instead: EventCPUClock, Remedy: "sampling cycles needs a PMU with an overflow interrupt"}
		}
		return "", &ConfigError{Field: "Event", Value: EventCycles, Problem: fmt.Sprintf("no hardware PMU here (%v)", perr),
			Instead: EventCPUClock, Remedy: "cycles needs a PMU: bare metal, or a VM that exposes one"}
	}
	cfg.Event = EventCPUClock
	if state == PMUCounts {
		return "the PMU counts cycles but cannot sample them: " + errnoText(perr), nil
	}
	return "no hardware PMU: cycles does not open here", nil
}

// errnoText is the kernel's word for err, "operation not supported",
// errNoSample's text, or err's whole text when it carries neither.
func errnoText(err error) string {
	var errno unix.Errno
	switch {
	case errors.As(err, &errno):
		return errno.Error()
	case errors.Is(err, errNoSample):
		return errNoSample.Error()
	case err == nil:
		return "no reason given"
	}
	return err.Error()
}
