package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pipelab/pipelab/profile"
)

// TestDoctor checks that doctor --json covers every fact the user needs,
// that its exit status follows the worst line, and that the hardware
// counter line tells the truth about this machine.
func TestDoctor(t *testing.T) {
	stdout, stderr, code := pipelab(t, t.TempDir(), "doctor", "--json")
	var got struct {
		Checks []check `json:"checks"`
		Exit   int     `json:"exit_status"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("doctor --json: %v\n%s%s", err, stdout, stderr)
	}
	if code != got.Exit {
		t.Errorf("exit status %d, but the JSON says %d", code, got.Exit)
	}
	byName := map[string]check{}
	worst := 0
	for _, c := range got.Checks {
		byName[c.Name] = c
		if c.Optional && c.Status != statusOK && c.Remedy == "" {
			t.Errorf("%s is %s without a remedy", c.Name, c.Status)
		}
		if c.Optional {
			continue // pipelab gup's line: not counted in the exit status
		}
		switch c.Status {
		case statusOK:
		case statusLimited:
			worst = max(worst, 1)
			if c.Remedy == "" {
				t.Errorf("%s is LIMITED without a remedy", c.Name)
			}
		case statusNo:
			worst = max(worst, 1)
			if c.Remedy == "" {
				t.Errorf("%s is NO without a remedy", c.Name)
			}
		default:
			t.Errorf("%s: status %q, want OK, LIMITED or NO", c.Name, c.Status)
		}
	}
	if got.Exit < worst {
		t.Errorf("exit status %d, want at least %d for %+v", got.Exit, worst, got.Checks)
	}
	for _, name := range []string{"kernel", "perf_event_open", "kernel callchains", "kernel symbols", "wall view",
		"hardware counters", "transparent huge pages", "pipe-max-size", "CPUs for pinning", "post's kernel symbols",
		"sched tracepoints", "CPU idle", "gup_test", "emulation"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("no %q line", name)
		}
	}
	hw := byName["hardware counters"]
	if err := profile.ProbeHardwareCounters(); errors.Is(err, profile.ErrNotSupported) && hw.Status != statusLimited {
		t.Errorf("hardware counters: %s, but cycles does not open here (%v)", hw.Status, err)
	} else if err == nil && hw.Status != statusOK {
		t.Errorf("hardware counters: %s, but cycles opens here", hw.Status)
	}
	if s := byName["post's kernel symbols"]; s.Status == statusOK && !strings.Contains(s.Detail, "copy_page_from_iter") {
		t.Errorf("post's kernel symbols: %q does not list copy_page_from_iter", s.Detail)
	}
	if os.Geteuid() == 0 && byName["perf_event_open"].Status != statusOK {
		t.Errorf("as root, perf_event_open is %s: %s", byName["perf_event_open"].Status, byName["perf_event_open"].Detail)
	}
}

// TestCheckPMUStates gives doctor each kind of PMU: none (ENOENT), one
// that counts cycles but refuses sampling events (a PMU without an
// overflow interrupt), and one that counts and samples cycles but not
// instructions (QEMU's emulated PMUv3 without -icount).
func TestCheckPMUStates(t *testing.T) {
	defer func(p func() (profile.PMU, error), h func() []profile.CounterProbe) { probePMU, probeHardware = p, h }(probePMU, probeHardware)
	noPMU := fmt.Errorf("perf_event_open cycles pid 0: %w: %w (no hardware PMU; software events only)", profile.ErrNotSupported, unix.ENOENT)
	noIRQ := fmt.Errorf("perf_event_open cycles pid 9: %w: %w (the PMU refuses sampling events: it has no overflow interrupt here)", profile.ErrNotSupported, unix.EOPNOTSUPP)
	cyclesOnly := []profile.CounterProbe{{Name: "cycles"}, {Name: "instructions", Err: noPMU}, {Name: "cache-misses", Err: noPMU}, {Name: "dTLB-load-misses", Err: noPMU}}
	for _, tt := range []struct {
		name   string
		state  profile.PMU
		err    error
		status string
		detail string
	}{
		{"no PMU", profile.PMUNone, noPMU, statusLimited, "software events only, no hardware PMU: cycles, instructions, cache-misses, dTLB-load-misses are reported as not supported"},
		{"counts only", profile.PMUCounts, noIRQ, statusLimited, "counts but cannot sample: sampling cycles fails (" + noIRQ.Error() + "), so profile samples cpu-clock; counts cycles; not counted by this PMU: instructions, cache-misses, dTLB-load-misses"},
		{"samples", profile.PMUSamples, nil, statusOK, "cycles counts and samples (profile samples cycles); counts cycles; not counted by this PMU: instructions, cache-misses, dTLB-load-misses"},
	} {
		probePMU = func() (profile.PMU, error) { return tt.state, tt.err }
		probeHardware = func() []profile.CounterProbe { return cyclesOnly }
		c := checkPMU()
		if c.Status != tt.status || c.Detail != tt.detail || (c.Status != statusOK) != (c.Remedy != "") {
			t.Errorf("%s: got %s %q (remedy %q)\nwant %s %q", tt.name, c.Status, c.Detail, c.Remedy, tt.status, tt.detail)
		}
	}
}
