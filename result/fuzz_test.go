package result_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/result"
)

// FuzzReadProfile feeds ReadProfile, the pprof reader behind diff, flame
// and report, arbitrary bytes (seed corpus in
// testdata/fuzz/FuzzReadProfile: a stored fixture, an uncompressed
// profile, truncated and legacy-text inputs). It must never panic; bad
// input must be a one-line *FileError wrapping ErrNotProfile; a profile it
// accepts must be valid and survive a write and re-read. flame's
// FuzzAnalyses takes what it accepts further.
func FuzzReadProfile(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := result.ReadProfile(bytes.NewReader(data))
		if err != nil {
			var fe *result.FileError
			if !errors.As(err, &fe) || !errors.Is(err, result.ErrNotProfile) {
				t.Fatalf("error %v is not a *FileError wrapping ErrNotProfile", err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error spans several lines: %q", err)
			}
			return
		}
		if err := p.CheckValid(); err != nil {
			t.Fatalf("accepted an invalid profile: %v", err)
		}
		var buf bytes.Buffer
		if err := p.Write(&buf); err != nil {
			t.Fatalf("write: %v", err)
		}
		q, err := result.ReadProfile(&buf)
		if err != nil {
			t.Fatalf("re-read of a written profile: %v", err)
		}
		if len(q.Sample) != len(p.Sample) || len(q.SampleType) != len(p.SampleType) {
			t.Fatalf("re-read: %d samples of %d types, want %d of %d", len(q.Sample), len(q.SampleType), len(p.Sample), len(p.SampleType))
		}
	})
}
