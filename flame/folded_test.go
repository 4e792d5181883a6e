package flame

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/result"
)

// TestFoldedMatchesCapture checks foldStacks against the captures the
// fixtures were made from: per role, the capture's lines for that role
// without the role prefix and the "_[k]" kernel marks, identical stacks
// summed, sorted.
func TestFoldedMatchesCapture(t *testing.T) {
	for _, mode := range fixture.Modes {
		capture := fixture.Capture(t, mode)
		p := fixture.Profile(t, mode)
		for _, role := range []string{"writer", "reader"} {
			want := map[string]int64{}
			sc := bufio.NewScanner(bytes.NewReader(capture))
			for sc.Scan() {
				stack, count, _ := strings.Cut(sc.Text(), " ")
				frames := strings.Split(stack, ";")
				if frames[0] != role {
					continue
				}
				n, err := strconv.ParseInt(count, 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				want[strings.ReplaceAll(strings.Join(frames[1:], ";"), "_[k]", "")] += n
			}
			var lines []string
			for k, n := range want {
				lines = append(lines, k+" "+strconv.FormatInt(n, 10))
			}
			sort.Strings(lines)
			var got bytes.Buffer
			if err := writeFolded(&got, foldStacks(p, role)); err != nil {
				t.Fatal(err)
			}
			if w := strings.Join(lines, "\n") + "\n"; got.String() != w {
				t.Errorf("%s %s (-want +got):\n%s", mode, role, fixture.LineDiff(w, got.String()))
			}
		}
	}
}

// TestFoldedFormat checks the format on a hand-made profile: root first,
// inlined frames caller first, ';' and line breaks kept out of frames,
// identical stacks merged, zero counts dropped, a stack-less sample given
// a frame, roles filtered.
func TestFoldedFormat(t *testing.T) {
	fn := func(id uint64, name string) *pprof.Function { return &pprof.Function{ID: id, Name: name} }
	main, inl, leaf, odd := fn(1, "main"), fn(2, "inlined_helper"), fn(3, "leaf"), fn(4, "operator;\nweird")
	locMain := &pprof.Location{ID: 1, Address: 0x1000, Line: []pprof.Line{{Function: main}}}
	// One location with an inlined call: Line[0] is the innermost.
	locInl := &pprof.Location{ID: 2, Address: 0x2000, Line: []pprof.Line{{Function: leaf}, {Function: inl}}}
	locOdd := &pprof.Location{ID: 3, Address: 0x3000, Line: []pprof.Line{{Function: odd}}}
	locBare := &pprof.Location{ID: 4, Address: 0xffffffff81234567}
	p := &pprof.Profile{
		SampleType: []*pprof.ValueType{{Type: "cpu", Unit: "nanoseconds"}, {Type: "samples", Unit: "count"}},
		Function:   []*pprof.Function{main, inl, leaf, odd},
		Location:   []*pprof.Location{locMain, locInl, locOdd, locBare},
	}
	sample := func(role string, n int64, locs ...*pprof.Location) {
		p.Sample = append(p.Sample, &pprof.Sample{Location: locs, Value: []int64{n * 1000, n}, Label: map[string][]string{"role": {role}}})
	}
	sample("writer", 2, locInl, locMain)
	sample("writer", 3, locInl, locMain)
	sample("writer", 0, locOdd, locMain)
	sample("writer", 1, locBare, locOdd, locMain)
	sample("writer", 4)
	sample("reader", 7, locMain)
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := writeFolded(&got, foldStacks(p, "writer")); err != nil {
		t.Fatal(err)
	}
	want := "[no stack] 4\nmain;inlined_helper;leaf 5\nmain;operator: weird;0xffffffff81234567 1\n"
	if got.String() != want {
		t.Errorf("writer (-want +got):\n%s", fixture.LineDiff(want, got.String()))
	}
	got.Reset()
	if err := writeFolded(&got, foldStacks(p, "")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.String(), "\nmain 7\n") || strings.Count(got.String(), "\n") != 4 {
		t.Errorf("every role: got\n%s, want the writer's three lines and the reader's main 7", got.String())
	}
	// Without samples/count, the first sample type counts.
	p.SampleType, p.Sample = p.SampleType[:1], p.Sample[5:]
	p.Sample[0].Value = p.Sample[0].Value[:1]
	if s := foldStacks(p, ""); len(s) != 1 || s[0].String() != "main 7000" {
		t.Errorf("without samples/count: got %v, want [main 7000]", s)
	}
}

// TestFoldedOutputs saves a step with its folded stacks the way `pipelab
// profile --folded` does: one MODE.ROLE.folded per role, cut from the
// both-roles profile.
func TestFoldedOutputs(t *testing.T) {
	dir := t.TempDir()
	both := fixture.Profile(t, "write")
	step := &result.Step{Settings: result.Settings{Mode: "write"}, Roles: []result.RoleSummary{{Role: "writer"}, {Role: "reader"}}}
	err := result.SaveStep(dir, step, map[result.Artefact]*pprof.Profile{{Kind: result.KindProfile}: both}, FoldedOutputs(step, both)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"writer", "reader"} {
		got, err := os.ReadFile(filepath.Join(dir, "write."+role+".folded"))
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		writeFolded(&want, foldStacks(both, role))
		if want.Len() == 0 || string(got) != want.String() {
			t.Errorf("%s: got %d bytes of folded stacks, want the %d of foldStacks", role, len(got), want.Len())
		}
	}
}

func TestFixturesMatchCapture(t *testing.T) {
	for _, mode := range fixture.Modes {
		t.Run(mode, func(t *testing.T) {
			folded := fixture.Capture(t, mode)
			built := fixture.Build(t, mode, folded)
			stored := fixture.Profile(t, mode)
			if got, want := len(stored.Sample), len(built.Sample); got != want {
				t.Fatalf("stored %s has %d samples, capture has %d (run go test ./flame -update)", mode, got, want)
			}
			var b1, b2 bytes.Buffer
			if err := writeFolded(&b1, foldStacks(built, "")); err != nil {
				t.Fatal(err)
			}
			if err := writeFolded(&b2, foldStacks(stored, "")); err != nil {
				t.Fatal(err)
			}
			if b1.String() != b2.String() {
				t.Errorf("stored %s.pb.gz is stale (run go test ./flame -update)", mode)
			}
		})
	}
}
