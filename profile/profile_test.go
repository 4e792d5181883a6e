package profile_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pprof "github.com/google/pprof/profile"

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
			fmt.Sprintf("profile: --freq 0: out of range (use 1 to %d Hz, kernel.perf_event_max_sample_rate)", max)},
		{profile.Config{FreqHz: max + 1, Mode: "write"},
			fmt.Sprintf("profile: --freq %d: out of range (use 1 to %d Hz, kernel.perf_event_max_sample_rate)", max+1, max)},
		{profile.Config{FreqHz: 999, Mode: "write", View: "flame"},
			`profile: --view "flame": unknown view (use cpu or wall)`},
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

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := &pprof.Profile{
		SampleType: []*pprof.ValueType{{Type: "samples", Unit: "count"}},
		Sample:     []*pprof.Sample{{Value: []int64{7}}},
	}
	path := filepath.Join(dir, "write.writer.pb.gz")
	if err := profile.WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Errorf("file does not start with the gzip magic: % x", b[:2])
	}
	q, err := pprof.Parse(bytes.NewReader(b))
	if err != nil || q.Sample[0].Value[0] != 7 {
		t.Fatalf("parse back: %v", err)
	}
	assertOnly(t, dir, "write.writer.pb.gz")
}

func TestWriteFileErrors(t *testing.T) {
	dir := t.TempDir()
	good := &pprof.Profile{SampleType: []*pprof.ValueType{{Type: "samples", Unit: "count"}}}
	bad := &pprof.Profile{
		SampleType: []*pprof.ValueType{{Type: "samples", Unit: "count"}},
		Sample:     []*pprof.Sample{{Value: []int64{1, 2}}},
	}
	err := profile.WriteFile(filepath.Join(dir, "bad.pb.gz"), bad)
	if err == nil || !strings.Contains(err.Error(), "invalid profile") {
		t.Errorf("invalid profile: got %v, want an invalid profile error", err)
	}
	missing := filepath.Join(dir, "no", "such", "dir", "x.pb.gz")
	err = profile.WriteFile(missing, good)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "--out") {
		t.Errorf("missing dir: got %v, want ErrNotExist naming --out", err)
	}
	// A directory in the way of the rename: the temp file must not stay.
	os.Mkdir(filepath.Join(dir, "taken.pb.gz"), 0o755)
	os.WriteFile(filepath.Join(dir, "taken.pb.gz", "f"), nil, 0o644)
	if err := profile.WriteFile(filepath.Join(dir, "taken.pb.gz"), good); err == nil {
		t.Error("rename over a non-empty directory: got nil error")
	}
	assertOnly(t, dir, "taken.pb.gz")
}

// assertOnly checks dir holds exactly the named entries.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
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
