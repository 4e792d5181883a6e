package profile_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/profile"
)

func TestNewValidates(t *testing.T) {
	max, err := profile.MaxSampleRate()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cfg  profile.Config
		want string
	}{
		{profile.Config{FreqHz: 0, Mode: "write"},
			fmt.Sprintf("profile: FreqHz 0: out of range (use 1 to %d Hz, kernel.perf_event_max_sample_rate)", max)},
		{profile.Config{FreqHz: max + 1, Mode: "write"},
			fmt.Sprintf("profile: FreqHz %d: out of range (use 1 to %d Hz, kernel.perf_event_max_sample_rate)", max+1, max)},
		{profile.Config{FreqHz: 999, Mode: "write", View: "flame"},
			`profile: View "flame": unknown view (use cpu or wall)`},
	}
	for _, tt := range tests {
		_, err := profile.New(tt.cfg)
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(%+v): got %v, want %q", tt.cfg, err, tt.want)
		}
	}
	if _, err := profile.New(profile.Config{FreqHz: max, Mode: "write"}); err != nil {
		t.Errorf("New at the maximum rate: %v", err)
	}
}

func TestProbes(t *testing.T) {
	for name, f := range map[string]func() (int, error){
		"Paranoid": profile.Paranoid, "KptrRestrict": profile.KptrRestrict, "MaxSampleRate": profile.MaxSampleRate,
	} {
		if _, err := f(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := profile.ProbeHardwareCounters(); err != nil && !errors.Is(err, profile.ErrNotSupported) {
		t.Errorf("ProbeHardwareCounters: got %v, want nil or ErrNotSupported", err)
	} else if err != nil && !strings.Contains(err.Error(), "perf_event_open cycles") {
		t.Errorf("ProbeHardwareCounters: error %q does not name the event", err)
	}
	mustHavePerfEvents(t)
	if err := profile.ProbeKernelCallchain(); err != nil {
		t.Errorf("ProbeKernelCallchain: %v", err)
	}
}
