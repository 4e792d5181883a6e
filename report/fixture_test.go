package report

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/result"
)

var update = flag.Bool("update", false, "rewrite golden files and fixture profiles under testdata")

// fixtureModes are the steps whose stacks were captured on the
// development VM (2 CPUs, kernel 6.18.44-fc-v769, cpu-clock at 999 Hz) on
// 2026-11-23, folded into testdata/capture/MODE.folded, and turned into
// the pprof fixtures testdata/MODE.pb.gz by buildFixture (-update).
var fixtureModes = []string{"write", "vmsplice", "splice", "huge", "busy"}

// periodNanos is the cpu-clock period at 999 Hz, as perf reported it.
const periodNanos = 1001001

// buildFixture turns a folded capture ("role;frame;...;leaf count", kernel
// frames suffixed "_[k]") into a profile shaped like pipelab's: sample
// types samples/count and cpu/nanoseconds, labels role, mode, pid, tid,
// kernel frames under a [kernel.kallsyms] mapping that is not mapping[0].
func buildFixture(t testing.TB, mode string, folded []byte) *pprof.Profile {
	t.Helper()
	user := &pprof.Mapping{ID: 1, Start: 0x400000, Limit: 0x1000000, File: "/usr/local/bin/pipelab", HasFunctions: true}
	kern := &pprof.Mapping{ID: 2, Start: 0xffffffff81000000, Limit: 0xffffffffc0000000, File: "[kernel.kallsyms]", HasFunctions: true}
	p := &pprof.Profile{
		SampleType: []*pprof.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &pprof.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     periodNanos,
		Mapping:    []*pprof.Mapping{user, kern},
		Comments:   []string{"mode=" + mode, "fixture from testdata/capture/" + mode + ".folded"},
	}
	locs := map[string]*pprof.Location{}
	loc := func(name string) *pprof.Location {
		if l := locs[name]; l != nil {
			return l
		}
		m, addr, fn := user, uint64(0x401000), name
		if k, ok := strings.CutSuffix(name, "_[k]"); ok {
			m, addr, fn = kern, 0xffffffff81001000, k
		}
		id := uint64(len(p.Location) + 1)
		f := &pprof.Function{ID: id, Name: fn, SystemName: fn}
		l := &pprof.Location{ID: id, Mapping: m, Address: addr + id*0x40, Line: []pprof.Line{{Function: f}}}
		p.Function = append(p.Function, f)
		p.Location = append(p.Location, l)
		locs[name] = l
		return l
	}
	pids := map[string]string{"writer": "4242", "reader": "4243"}
	sc := bufio.NewScanner(bytes.NewReader(folded))
	for sc.Scan() {
		stack, count, ok := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseInt(count, 10, 64)
		if !ok || err != nil {
			t.Fatalf("fixture %s: bad line %q", mode, sc.Text())
		}
		names := strings.Split(stack, ";")
		s := &pprof.Sample{Value: []int64{n, n * periodNanos}, Label: map[string][]string{
			"role": {names[0]}, "mode": {mode}, "pid": {pids[names[0]]}, "tid": {pids[names[0]]},
		}}
		for i := len(names) - 1; i >= 1; i-- {
			s.Location = append(s.Location, loc(names[i]))
		}
		p.Sample = append(p.Sample, s)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatalf("fixture %s: %v", mode, err)
	}
	return p
}

// fixture returns the stored profile testdata/MODE.pb.gz, rewriting it
// from the capture first under -update.
func fixture(t testing.TB, mode string) *pprof.Profile {
	t.Helper()
	path := filepath.Join("testdata", mode+".pb.gz")
	if *update {
		folded, err := os.ReadFile(filepath.Join("testdata", "capture", mode+".folded"))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := buildFixture(t, mode, folded).Write(&buf); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := result.OpenProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// golden compares got with testdata/golden/NAME, rewriting it under
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (-want +got):\n%s", name, lineDiff(string(want), string(got)))
	}
}

// lineDiff lists the lines that differ, prefixed - (want) and + (got).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n-%s\n+%s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

func TestFixturesMatchCapture(t *testing.T) {
	for _, mode := range fixtureModes {
		t.Run(mode, func(t *testing.T) {
			folded, err := os.ReadFile(filepath.Join("testdata", "capture", mode+".folded"))
			if err != nil {
				t.Fatal(err)
			}
			built := buildFixture(t, mode, folded)
			stored := fixture(t, mode)
			if got, want := len(stored.Sample), len(built.Sample); got != want {
				t.Fatalf("stored %s has %d samples, capture has %d (run go test ./report -update)", mode, got, want)
			}
			var b1, b2 bytes.Buffer
			if err := writeFolded(&b1, foldStacks(built, "")); err != nil {
				t.Fatal(err)
			}
			if err := writeFolded(&b2, foldStacks(stored, "")); err != nil {
				t.Fatal(err)
			}
			if b1.String() != b2.String() {
				t.Errorf("stored %s.pb.gz is stale (run go test ./report -update)", mode)
			}
		})
	}
}
