package profile_test

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	pprof "github.com/google/pprof/profile"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/profile"
	"github.com/pipelab/pipelab/result"
)

// profilePair profiles one writer/reader run of mode and returns the
// result after checking every profile round-trips through Parse and
// CheckValid.
func profilePair(t *testing.T, mode string, bytes int64, setup ...func(*profile.Profiler)) *profile.Result {
	t.Helper()
	mustHavePerfEvents(t)
	p, err := profile.New(profile.Config{FreqHz: 999, Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(p)
	}
	runPair(t, mode, bytes, p)
	runPair(t, mode, bytes, p.Counting())
	res := p.Result()
	if res.Counted != 1 || !res.CountedSeparately {
		t.Errorf("counted %d transfer(s), separately %v; want 1 counted transfer of its own", res.Counted, res.CountedSeparately)
	}
	if len(res.Roles) != 2 || res.Roles[0].Name != "writer" || res.Roles[1].Name != "reader" {
		t.Fatalf("roles: got %v, want writer and reader", res.Roles)
	}
	for _, r := range res.Roles {
		q := roundTrip(t, r.Name, r.Profile)
		if r.Samples == 0 {
			t.Errorf("%s: no samples", r.Name)
		}
		if r.Lost != 0 {
			t.Errorf("%s: %d samples lost at 999 Hz, want none", r.Name, r.Lost)
		}
		// CPU-wide rings hold every process's samples: only the child's
		// may reach its profile.
		if got, want := labelValues(q, "pid"), strconv.Itoa(r.PIDs[0]); got != want {
			t.Errorf("%s: pid labels %s, want only the child's %s", r.Name, got, want)
		}
	}
	c, err := res.Combined()
	if err != nil {
		t.Fatal(err)
	}
	c = roundTrip(t, "combined", c)
	if roles := labelValues(c, "role"); roles != "reader,writer" {
		t.Errorf("combined profile roles: got %s, want reader,writer", roles)
	}
	checkCounters(t, res)
	return res
}

// labelValues lists the distinct values of a label in p, sorted.
func labelValues(p *pprof.Profile, key string) string {
	seen := map[string]bool{}
	for _, s := range p.Sample {
		for _, v := range s.Label[key] {
			seen[v] = true
		}
	}
	var vs []string
	for v := range seen {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	return strings.Join(vs, ",")
}

// checkCounters wants the software counters counted and every hardware
// counter either counted or reported once as not supported.
func checkCounters(t *testing.T, res *profile.Result) {
	t.Helper()
	hwErr := profile.ProbeHardwareCounters()
	for _, r := range res.Roles {
		c := map[string]result.Counter{}
		for _, x := range r.Counters {
			c[x.Name] = x
		}
		if tc := c["task-clock"]; !tc.Supported || tc.Value <= 0 || tc.RunningNanos <= 0 {
			t.Errorf("%s: task-clock %+v, want counted", r.Name, tc)
		}
		if cs := c["context-switches"]; !cs.Supported || cs.Raw == 0 {
			t.Errorf("%s: context-switches %+v, want > 0 (the pipe blocks)", r.Name, cs)
		}
		if cy := c["cycles"]; cy.Supported != (hwErr == nil) {
			t.Errorf("%s: cycles supported %v, but probe says %v", r.Name, cy.Supported, hwErr)
		}
	}
	if hwErr != nil {
		n := 0
		for _, w := range res.Warnings {
			if w == "cycles: not supported here (no hardware PMU)" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("warnings %q: want the cycles line exactly once", res.Warnings)
		}
	}
}

// roundTrip writes p, parses it back and checks it.
func roundTrip(t *testing.T, name string, p *pprof.Profile) *pprof.Profile {
	t.Helper()
	if err := p.CheckValid(); err != nil {
		t.Fatalf("%s: CheckValid: %v", name, err)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatalf("%s: Write: %v", name, err)
	}
	q, err := pprof.Parse(&buf)
	if err != nil {
		t.Fatalf("%s: Parse: %v", name, err)
	}
	if err := q.CheckValid(); err != nil {
		t.Fatalf("%s: parsed CheckValid: %v", name, err)
	}
	return q
}

// hasCall reports whether some sample's stack holds callee below caller
// (caller == "" matches callee anywhere). A name matches when it contains
// the wanted one, so iov_iter_get_pages matches iov_iter_get_pages2 and,
// on 6.18 where that one tail-calls, __iov_iter_get_pages_alloc.
func hasCall(p *pprof.Profile, callee, caller string) bool {
	for _, s := range p.Sample {
		found := -1
		for i, l := range s.Location {
			for _, ln := range l.Line {
				name := ln.Function.Name
				if found < 0 && strings.Contains(name, callee) {
					found = i
				}
				if found >= 0 && (caller == "" || (i > found && strings.Contains(name, caller))) {
					return true
				}
			}
		}
	}
	return false
}

func TestProfileWriteMode(t *testing.T) {
	res := profilePair(t, "write", 512<<20)
	w, r := res.Roles[0].Profile, res.Roles[1].Profile
	if !hasCall(w, "copy_page_from_iter", "pipe_write") { // anon_pipe_write since 6.15
		t.Errorf("writer: no copy_page_from_iter under anon_pipe_write\n%s", top(w))
	}
	if !hasCall(r, "copy_page_to_iter", "") {
		t.Errorf("reader: no copy_page_to_iter\n%s", top(r))
	}
}

// TestProfilePerThread runs the fallback for machines that refuse
// CPU-wide events: one sampler per thread, whose samples still say on
// which CPU they ran (PERF_SAMPLE_CPU).
func TestProfilePerThread(t *testing.T) {
	defer profile.RefuseCPUWide()()
	res := profilePair(t, "write", 256<<20)
	if w := res.Roles[0].Profile; !hasCall(w, "copy_page_from_iter", "pipe_write") {
		t.Errorf("writer: no copy_page_from_iter under anon_pipe_write\n%s", top(w))
	}
	for _, r := range res.Roles {
		for _, s := range r.Profile.Sample {
			if len(s.Label["pid"]) > 0 && (len(s.Label["cpu"]) != 1 || len(s.Label["comm"]) != 1) {
				t.Fatalf("%s: a sample has labels %v, want one cpu and one comm", r.Name, s.Label)
			}
		}
	}
}

func TestProfileSpliceMode(t *testing.T) {
	res := profilePair(t, "splice", 1<<30)
	w, r := res.Roles[0].Profile, res.Roles[1].Profile
	if hasCall(r, "copy_page_to_iter", "") {
		t.Errorf("reader: got copy_page_to_iter in splice mode, want none; first such stack, leaf first:\n%s", stackWith(r, "copy_page_to_iter"))
	}
	if !hasCall(w, "iov_iter_get_pages", "") {
		t.Errorf("writer: no iov_iter_get_pages*\n%s", top(w))
	}
}

// stackWith returns the first stack of p with a function whose name holds
// name, one frame per line, leaf first, for failure messages.
func stackWith(p *pprof.Profile, name string) string {
	for _, s := range p.Sample {
		var frames []string
		hit := false
		for _, l := range s.Location {
			for _, ln := range l.Line {
				frames = append(frames, "  "+ln.Function.Name)
				hit = hit || strings.Contains(ln.Function.Name, name)
			}
		}
		if hit {
			return strings.Join(frames, "\n") + "\n  labels: " + fmt.Sprint(s.Label)
		}
	}
	return "(none)"
}

// top lists the leaf functions of p by sample count, for failure messages.
func top(p *pprof.Profile) string {
	counts := map[string]int64{}
	for _, s := range p.Sample {
		name := "?"
		if len(s.Location) > 0 && len(s.Location[0].Line) > 0 {
			name = s.Location[0].Line[0].Function.Name
		}
		counts[name] += s.Value[0]
	}
	var b strings.Builder
	for n, c := range counts {
		if c*50 >= int64(len(p.Sample)) {
			b.WriteString(n + " ")
		}
	}
	return b.String()
}

func TestProfileRepeat(t *testing.T) {
	mustHavePerfEvents(t)
	p, err := profile.New(profile.Config{FreqHz: 999, Mode: "write"})
	if err != nil {
		t.Fatal(err)
	}
	runPair(t, "write", 64<<20, p)
	first := p.Result().Roles[0].Samples
	runPair(t, "write", 64<<20, p)
	res := p.Result()
	w := res.Roles[0]
	if len(w.PIDs) != 2 || w.PIDs[0] == w.PIDs[1] {
		t.Errorf("writer pids: got %v, want two runs", w.PIDs)
	}
	if w.Samples <= first {
		t.Errorf("writer samples: got %d after two runs, %d after one; want them to add up", w.Samples, first)
	}
	if got := labelValues(roundTrip(t, "writer", w.Profile), "pid"); strings.Count(got, ",") != 1 {
		t.Errorf("writer pid labels: got %s, want two", got)
	}
}

// TestProfilePerThreadFollowsForks runs the per-thread fallback on a
// writer command that forks a pipeline: the samplers are inherited, so
// both cat processes have samples in the writer role, each on its CPU.
func TestProfilePerThreadFollowsForks(t *testing.T) {
	mustHavePerfEvents(t)
	p, err := profile.New(profile.Config{FreqHz: 999, Mode: "cats"})
	if err != nil {
		t.Fatal(err)
	}
	defer profile.RefuseCPUWide()()
	o := bench.DefaultOptions()
	o.Mode, o.Bytes, o.Repeat, o.WriterCmd = "write", 128<<20, 1, "cat /dev/zero | cat"
	if _, err := bench.Run(context.Background(), o, p, nil); err != nil {
		t.Fatal(err)
	}
	w := p.Result().Roles[0]
	pids := map[string]bool{}
	for _, s := range roundTrip(t, "writer", w.Profile).Sample {
		if c := s.Label["comm"]; len(c) == 1 && c[0] == "cat" {
			pids[s.Label["pid"][0]] = true
			if len(s.Label["cpu"]) != 1 {
				t.Fatalf("a sample of cat has labels %v, want a cpu", s.Label)
			}
		}
	}
	if len(pids) < 2 {
		t.Errorf("got samples of cat from pids %v in the writer role, want two processes", pids)
	}
}
