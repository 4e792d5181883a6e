package attribute

import (
	"math"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/result"
)

func fixtureStep(t *testing.T, mode string) result.Step {
	t.Helper()
	f, err := result.OpenFolder(fixture.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range f.Steps {
		if s.Mode == mode {
			return s
		}
	}
	t.Fatalf("the fixture ladder has no step %s", mode)
	return result.Step{}
}

func derivedOf(ds []Derived, role, post string) *Derived {
	for i, d := range ds {
		if d.Role == role && d.Post == post {
			return &ds[i]
		}
	}
	return nil
}

// TestDeriveSplice: get_user_pages_fast's time per page is its inclusive
// sampled time, as attribution reports it, over the pages the transfers
// moved, inside its sampling interval.
func TestDeriveSplice(t *testing.T) {
	s, p := fixtureStep(t, "splice"), fixture.Profile(t, "splice")
	d := derivedOf(Derive(s, p), "writer", "get_user_pages_fast")
	if d == nil {
		t.Fatal("no get_user_pages_fast figure for the splice writer")
	}
	as, err := Profile(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var cum int64
	for _, r := range as[0].Post {
		if r.Post == "get_user_pages_fast" {
			cum = r.Cum
		}
	}
	pages := float64(s.Bytes) * float64(len(s.Runs)) / 4096
	if want := float64(cum) / pages; math.Abs(d.Value-want) > 1e-9 {
		t.Errorf("ns per page: got %v, want %v (%d ns over %.0f pages)", d.Value, want, cum, pages)
	}
	if !(d.Low < d.Value && d.Value < d.High) {
		t.Errorf("interval %v..%v does not hold %v", d.Low, d.High, d.Value)
	}
	if !strings.Contains(d.String(), "get_user_pages_fast (as gup_fast_fallback) ") || !strings.Contains(d.String(), "per 4 KiB page (95% CI ") {
		t.Errorf("figure %q: want the post's name, the real one, the unit and the interval", d.String())
	}
}

// TestDeriveHugePagesWalkCheaper is the post's point about huge pages:
// the page walk per 4 KiB page costs less, beyond the sampling error.
func TestDeriveHugePagesWalkCheaper(t *testing.T) {
	small := derivedOf(Derive(fixtureStep(t, "splice"), fixture.Profile(t, "splice")), "writer", "get_user_pages_fast")
	huge := derivedOf(Derive(fixtureStep(t, "huge"), fixture.Profile(t, "huge")), "writer", "get_user_pages_fast")
	if small == nil || huge == nil {
		t.Fatal("no get_user_pages_fast figure for splice or huge")
	}
	if huge.High >= small.Low {
		t.Errorf("huge pages %s, small pages %s: want the huge-page interval below the small-page one", huge, small)
	}
}

// TestDeriveWrite: the write step copies and allocates and pins nothing.
func TestDeriveWrite(t *testing.T) {
	ds := Derive(fixtureStep(t, "write"), fixture.Profile(t, "write"))
	for _, c := range []struct {
		role, post, per string
		want            bool
	}{
		{"writer", "copy_page_from_iter", "GiB", true},
		{"reader", "copy_page_to_iter", "GiB", true},
		{"writer", "__alloc_pages", "4 KiB page", true},
		{"writer", "get_user_pages_fast", "", false},
	} {
		d := derivedOf(ds, c.role, c.post)
		if (d != nil) != c.want {
			t.Errorf("%s %s: got %v, want present=%v", c.role, c.post, d, c.want)
			continue
		}
		if d != nil && (d.Per != c.per || d.Value <= 0) {
			t.Errorf("%s %s: got %s, want a positive figure per %s", c.role, c.post, d, c.per)
		}
	}
}

// TestProfiledBytes: with an interleaved baseline only the profiled
// transfers count.
func TestProfiledBytes(t *testing.T) {
	s := result.Step{Settings: result.Settings{Bytes: 1 << 30}, Runs: []float64{1, 2, 3, 4, 5, 6}}
	if got := profiledBytes(s); got != 6<<30 {
		t.Errorf("no baseline: got %d, want 6 GiB", got)
	}
	s.Cost = &result.Cost{Runs: 3}
	if got := profiledBytes(s); got != 3<<30 {
		t.Errorf("baseline: got %d, want 3 GiB", got)
	}
}
