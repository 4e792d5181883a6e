package attribute

import (
	"bytes"
	"errors"
	"math"
	"testing"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/result"
)

var transitions = [][2]string{{"write", "vmsplice"}, {"vmsplice", "splice"}, {"splice", "huge"}, {"huge", "busy"}}

func TestDiffGolden(t *testing.T) {
	for _, tr := range transitions {
		name := tr[0] + "-" + tr[1]
		t.Run(name, func(t *testing.T) {
			ds, err := Diff(fixture.Profile(t, tr[0]), fixture.Profile(t, tr[1]), Options{Top: 12})
			if err != nil {
				t.Fatal(err)
			}
			var txt, md, js bytes.Buffer
			for _, w := range []error{WriteDiffText(&txt, ds), WriteDiffMarkdown(&md, ds), WriteDiffJSON(&js, ds)} {
				if w != nil {
					t.Fatal(w)
				}
			}
			fixture.Golden(t, "diff."+name+".txt", txt.Bytes())
			fixture.Golden(t, "diff."+name+".md", md.Bytes())
			fixture.Golden(t, "diff."+name+".json", js.Bytes())
		})
	}
}

func TestDiffBiggestChangeFirst(t *testing.T) {
	ds, err := Diff(fixture.Profile(t, "write"), fixture.Profile(t, "vmsplice"), Options{Top: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		for i := 1; i < len(d.Rows); i++ {
			if math.Abs(d.Rows[i].DeltaCum) > math.Abs(d.Rows[i-1].DeltaCum) {
				t.Fatalf("%s: row %d (%s, %v) changes more than row %d (%s, %v)", d.Role, i, d.Rows[i].Symbol, d.Rows[i].DeltaCum, i-1, d.Rows[i-1].Symbol, d.Rows[i-1].DeltaCum)
			}
		}
	}
	// write -> vmsplice: the writer stops copying and allocating pages.
	w := ds[0]
	if w.Role != "writer" {
		t.Fatalf("first role %s, want writer", w.Role)
	}
	for _, want := range []string{"anon_pipe_write", "__do_sys_vmsplice", "alloc_pages_noprof", "copy_page_from_iter"} {
		r := findRow(w.Rows, want)
		if r == nil {
			t.Errorf("writer diff lacks %s", want)
			continue
		}
		gone := want != "__do_sys_vmsplice"
		if gone && (r.CumA == 0 || r.CumB != 0) || !gone && (r.CumA != 0 || r.CumB == 0) {
			t.Errorf("%s: cum A %.3f, B %.3f; want it only in %s", want, r.CumA, r.CumB, map[bool]string{true: "A", false: "B"}[gone])
		}
	}
}

func findRow(rows []DiffRow, sym string) *DiffRow {
	for i := range rows {
		if rows[i].Symbol == sym {
			return &rows[i]
		}
	}
	return nil
}

func TestDiffErrors(t *testing.T) {
	other := fixture.Profile(t, "busy")
	other.SampleType = []*pprof.ValueType{{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"}}
	_, err := Diff(fixture.Profile(t, "write"), other, Options{})
	want := "diff: different sample types (samples/count, cpu/nanoseconds vs alloc_objects/count, alloc_space/bytes; compare profiles of the same kind)"
	if err == nil || err.Error() != want {
		t.Errorf("got error %v, want %q", err, want)
	}
	var fe *result.FileError
	if !errors.As(err, &fe) || !errors.Is(err, result.ErrSampleTypes) {
		t.Errorf("error %v is not a *FileError wrapping ErrSampleTypes", err)
	}
	if _, err := DiffProfile(fixture.Profile(t, "write"), other); !errors.Is(err, result.ErrSampleTypes) {
		t.Errorf("DiffProfile: got error %v, want ErrSampleTypes", err)
	}
}

func TestDiffProfileFollowsPprofConvention(t *testing.T) {
	base, p := fixture.Profile(t, "write"), fixture.Profile(t, "vmsplice")
	d, err := DiffProfile(base, p)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := d.Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := pprof.Parse(&buf)
	if err != nil {
		t.Fatalf("diff profile does not parse back: %v", err)
	}
	sum := func(p *pprof.Profile, base bool) (n int64) {
		for _, s := range p.Sample {
			if s.DiffBaseSample() == base {
				n += s.Value[1]
			}
		}
		return n
	}
	if got, want := sum(back, true), -sum(base, false); got != want {
		t.Errorf("base samples add up to %d, want %d (base scaled by -1)", got, want)
	}
	if got, want := sum(back, false), sum(p, false); got != want {
		t.Errorf("new samples add up to %d, want %d", got, want)
	}
	for _, s := range back.Sample {
		if s.DiffBaseSample() != (s.Value[1] < 0) {
			t.Fatalf("sample %v: pprof::base label and sign disagree", s.Label)
		}
	}
}
