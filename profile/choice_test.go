package profile

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

// TestChooseEvent gives the event choice each kind of machine: no PMU (x86
// VMs without a virtual PMU: cycles does not open, ENOENT), a PMU that
// counts but refuses sampling events (EOPNOTSUPP, a PMU without an
// overflow interrupt), one whose sampling event opens but never delivers
// a sample, and one that samples. The default takes cycles only where it
// samples and says why not in one line; cycles asked for is refused with
// the reason and the remedy.
func TestChooseEvent(t *testing.T) {
	noPMU := openError(EventCycles, 0, unix.ENOENT)
	noIRQ := samplingOpenError(EventCycles, 42, unix.EOPNOTSUPP)
	silent := fmt.Errorf("probe cycles sampling pid 42: %w: %w", ErrNotSupported, errNoSample)
	for _, tt := range []struct {
		name      string
		event     string
		state     PMU
		probeErr  error
		wantEvent string
		reason    string
		err       string
	}{
		{"default, samples", "", PMUSamples, nil, EventCycles, "", ""},
		{"default, no PMU", "", PMUNone, noPMU, EventCPUClock, "no hardware PMU: cycles does not open here", ""},
		{"default, counts only", "", PMUCounts, noIRQ, EventCPUClock, "the PMU counts cycles but cannot sample them: operation not supported", ""},
		{"default, no sample came", "", PMUCounts, silent, EventCPUClock, "the PMU counts cycles but cannot sample them: opened, but no sample came in 500ms (its overflow interrupt does not reach this kernel)", ""},
		{"cycles, samples", EventCycles, PMUSamples, nil, EventCycles, "", ""},
		{"cycles, counts only", EventCycles, PMUCounts, noIRQ, "", "",
			"profile: Event cycles: the PMU counts cycles but cannot sample them (operation not supported) (use Event cpu-clock; sampling cycles needs a PMU with an overflow interrupt)"},
		{"cycles, no PMU", EventCycles, PMUNone, noPMU, "", "",
			"profile: Event cycles: no hardware PMU here (perf_event_open cycles pid 0: not supported here: no such file or directory (no hardware PMU; software events only)) (use Event cpu-clock; cycles needs a PMU: bare metal, or a VM that exposes one)"},
		{"cpu-clock", EventCPUClock, PMUSamples, nil, EventCPUClock, "", ""},
		{"unknown", "instructions", PMUSamples, nil, "", "", "profile: Event instructions: unknown event (want cycles or cpu-clock)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			probed := false
			cfg := Config{Event: tt.event}
			reason, err := chooseEvent(&cfg, func() (PMU, error) { probed = true; return tt.state, tt.probeErr })
			if tt.err != "" {
				var ce *ConfigError
				if err == nil || !errors.As(err, &ce) || err.Error() != tt.err {
					t.Fatalf("got error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Event != tt.wantEvent || reason != tt.reason {
				t.Errorf("got event %q reason %q, want %q reason %q", cfg.Event, reason, tt.wantEvent, tt.reason)
			}
			if tt.event == EventCPUClock && probed {
				t.Error("cpu-clock asked for, yet the PMU was probed")
			}
		})
	}
}

// TestUnsupportedHint checks what an unsupported event is said to mean:
// a missing cycles counter means no PMU at all, another hardware counter
// one this PMU does not count, a refused hardware sampling event a PMU
// without an overflow interrupt, and a software event or tracepoint
// something this kernel lacks. None of them claims "no hardware PMU" but
// the first.
func TestUnsupportedHint(t *testing.T) {
	for _, tt := range []struct {
		event    string
		sampling bool
		errno    unix.Errno
		want     string
	}{
		{EventCycles, false, unix.ENOENT, "perf_event_open cycles pid 7: not supported here: no such file or directory (no hardware PMU; software events only)"},
		{EventCycles, true, unix.ENOENT, "perf_event_open cycles pid 7: not supported here: no such file or directory (no hardware PMU; software events only)"},
		{EventCycles, true, unix.EOPNOTSUPP, "perf_event_open cycles pid 7: not supported here: operation not supported (the PMU refuses sampling events: it has no overflow interrupt here)"},
		{"instructions", false, unix.ENOENT, "perf_event_open instructions pid 7: not supported here: no such file or directory (not an event this machine's PMU counts)"},
		{"sched:sched_waking cpu 0", false, unix.ENOENT, "perf_event_open sched:sched_waking cpu 0 pid 7: not supported here: no such file or directory (not available in this kernel)"},
		{EventCPUClock, true, unix.EOPNOTSUPP, "perf_event_open cpu-clock pid 7: not supported here: operation not supported (not available in this kernel)"},
	} {
		err := eventOpenError(tt.event, 7, tt.sampling, tt.errno)
		if err.Error() != tt.want || !errors.Is(err, ErrNotSupported) || !errors.Is(err, tt.errno) {
			t.Errorf("%s sampling=%v %v:\n got %v\nwant %s (wrapping ErrNotSupported and the errno)", tt.event, tt.sampling, tt.errno, err, tt.want)
		}
	}
}

// TestPMUString checks the names results and doctor give each state.
func TestPMUString(t *testing.T) {
	for s, want := range map[PMU]string{PMUNone: "software only", PMUCounts: "counts, cannot sample", PMUSamples: "hardware"} {
		if got := s.String(); got != want {
			t.Errorf("PMU %d: got %q, want %q", s, got, want)
		}
	}
}
