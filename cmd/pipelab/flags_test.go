package main

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/profile"
)

// TestFlagsNameEveryField: every field bench's and profile's errors can
// name has a flag in the one map, and every flag in the map is one that
// pipelab profile takes. bench's errors name fields of bench.Options and
// bench.Watch's parameters (bench's TestOptionErrorsNameFields holds them
// to that); profile's name the three fields of profile.Config a flag sets.
func TestFlagsNameEveryField(t *testing.T) {
	var fields []string
	for _, f := range reflect.VisibleFields(reflect.TypeOf(bench.Options{})) {
		fields = append(fields, f.Name)
	}
	fields = append(fields, "Writer", "Reader", "Duration")
	config := reflect.TypeOf(profile.Config{})
	for _, f := range []string{"FreqHz", "View", "Event"} {
		if _, ok := config.FieldByName(f); !ok {
			t.Errorf("profile.Config has no field %s", f)
		}
		fields = append(fields, f)
	}
	for _, f := range fields {
		if _, ok := flags[f]; !ok {
			t.Errorf("field %s has no flag in flags", f)
		}
	}
	help, _, _ := pipelab(t, t.TempDir(), "profile", "--help")
	for field, flag := range flags {
		if !strings.Contains(help, "\n  "+flag+" ") && !strings.Contains(help, "\n  "+flag+"\n") {
			t.Errorf("flags maps %s to %s, which pipelab profile --help does not list", field, flag)
		}
	}
}

// TestFreqDefaultClamped gives the profile flags a kernel whose
// perf_event_max_sample_rate the kernel itself lowered below the default
// --freq (it does when its perf interrupts take too long, as under
// emulation): the default comes down to the limit with one note, while a
// --freq the user gave is left for profile.New to refuse by name.
func TestFreqDefaultClamped(t *testing.T) {
	defer func(f func() (int, error)) { maxSampleRate = f }(maxSampleRate)
	maxSampleRate = func() (int, error) { return 750, nil }
	for _, tt := range []struct {
		args     []string
		wantFreq int
		note     string
	}{
		{nil, 750, "--freq: sampling at 750 Hz, kernel.perf_event_max_sample_rate, below the default 999 Hz (the kernel lowers the limit when its perf interrupts take too long)\n"},
		{[]string{"--freq", "999"}, 999, ""},
		{[]string{"--freq", "500"}, 500, ""},
	} {
		pf := defaultProfileFlags()
		fs := newFlagSet("profile", "", "")
		addProfileFlags(fs, &pf)
		var stderr bytes.Buffer
		env := &cli{stdout: io.Discard, stderr: &stderr}
		if err := fs.parse(env, tt.args); err != nil {
			t.Fatal(err)
		}
		if err := pf.check(env, fs.FlagSet); err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if pf.freq != tt.wantFreq || stderr.String() != tt.note {
			t.Errorf("%q: got --freq %d and note %q, want %d and %q", tt.args, pf.freq, stderr.String(), tt.wantFreq, tt.note)
		}
	}
}
