package flame

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/result"
)

// FuzzAnalyses takes any profile result.ReadProfile accepts (seeds: the
// recorded fixtures) through attribution, diff, folding and a flame graph:
// none may panic, and folded lines stay one line each.
func FuzzAnalyses(f *testing.F) {
	for _, m := range fixture.Modes {
		data, err := os.ReadFile(fixture.Path(m + ".pb.gz"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := result.ReadProfile(bytes.NewReader(data))
		if err != nil {
			return // FuzzReadProfile checks the errors
		}
		if _, err := attribute.Profile(p, attribute.Options{}); err != nil && !errors.Is(err, attribute.ErrNoKernelFrames) {
			t.Fatalf("attribute: %v", err)
		}
		if _, err := attribute.Diff(p, p.Copy(), attribute.Options{}); err != nil && !errors.Is(err, attribute.ErrNoKernelFrames) {
			t.Fatalf("diff with itself: %v", err)
		}
		for _, s := range foldStacks(p, "") {
			if line := s.String(); strings.ContainsAny(line, "\n\r") || len(s.Frames) == 0 {
				t.Fatalf("folded line %q", line)
			}
		}
		var fe *result.FileError
		if g, err := New(p, Options{}); err == nil {
			if err := WriteSVG(&bytes.Buffer{}, g); err != nil {
				t.Fatalf("flame svg: %v", err)
			}
		} else if !errors.As(err, &fe) {
			t.Fatalf("flame: %v is not a *FileError", err)
		}
	})
}
