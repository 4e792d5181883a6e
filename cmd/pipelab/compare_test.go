package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/compare"
	"github.com/pipelab/pipelab/result"
)

// TestCompare captures two small ladders here, one with 64KiB pipes and
// one with 1MiB pipes, and compares them: both steps in both folders, the
// pipe size flagged as a setting that differs, real kernel symbols in the
// symbol rows, and compare.md with its chart and the differential flame
// graphs under --out.
func TestCompare(t *testing.T) {
	mustHavePerfEvents(t)
	dir := t.TempDir()
	for _, c := range []struct{ out, pipe string }{{"small", "64KiB"}, {"large", "1MiB"}} {
		_, stderr, code := pipelab(t, dir, "ladder", "--modes", "write,vmsplice", "--bytes", "32MiB", "--repeat", "2", "--pipe-size", c.pipe, "--out", c.out)
		if code != 0 {
			t.Fatalf("ladder --pipe-size %s: exit status %d: %s", c.pipe, code, stderr)
		}
	}
	stdout, stderr, code := pipelab(t, dir, "compare", "--out", "cmp", "small", "large")
	if code != 0 {
		t.Fatalf("compare: exit status %d: %s", code, stderr)
	}
	for _, want := range []string{
		"machine: same machine, same kernel\n",
		"  write: pipe_size 64 KiB vs 1 MiB\n",
		"  vmsplice: pipe_size 64 KiB vs 1 MiB\n",
		"write, writer: inclusive share of cpu/nanoseconds",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("compare output lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{result.CompareFile, result.CompareChartFile, result.CompareFlameFile("write", "writer", 1), result.CompareFlameFile("vmsplice", "reader", 1)} {
		if _, err := os.Stat(filepath.Join(dir, "cmp", f)); err != nil {
			t.Errorf("--out: %v", err)
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "cmp", result.CompareFile))
	if err != nil || !strings.Contains(string(md), "![median GiB/s per step and folder](compare.svg)") {
		t.Errorf("compare.md does not show the chart (%v):\n%s", err, md)
	}

	stdout, stderr, code = pipelab(t, dir, "compare", "--format", "json", "--top", "1000", "small", "large")
	if code != 0 {
		t.Fatalf("compare --format json: exit status %d: %s", code, stderr)
	}
	var l compare.Ladders
	if err := json.Unmarshal([]byte(stdout), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Steps) != 2 || l.Folders[0].Env == nil || l.Folders[0].Version != result.FormatVersion {
		t.Fatalf("json: got %d steps, folder %+v; want 2 steps and the recorded environment", len(l.Steps), l.Folders[0])
	}
	for _, st := range l.Steps {
		for _, c := range st.Cells {
			if c.Missing || c.Throughput.N != 2 || c.Throughput.Median <= 0 || !c.Profiled {
				t.Errorf("%s: got cell %+v, want 2 profiled runs", st.Mode, c)
			}
		}
	}
	// A symbol whose share is the same in both folders has no row; with
	// a few dozen samples per role that can happen to one of them.
	if !hasSymbol(l, "write", "writer", "pipe_write") && !hasSymbol(l, "write", "reader", "pipe_read") {
		t.Errorf("json: neither a pipe_write row for the writer nor a pipe_read row for the reader in step write:\n%s", stdout)
	}
}

// hasSymbol reports whether the comparison has a row for the post's
// symbol post in mode's role.
func hasSymbol(l compare.Ladders, mode, role, post string) bool {
	for _, st := range l.Steps {
		for _, rs := range st.Roles {
			for _, s := range rs.Symbols {
				if st.Mode == mode && rs.Role == role && s.Post == post {
					return true
				}
			}
		}
	}
	return false
}
