package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/result"
)

// TestLadderConsumeSteps: a step of --modes may add knobs to its mode:
// write+consume is write whose reader consumes, saved under its own name
// with the knob set and its mode as the strategy; a consuming copy is no
// ceiling, the plain copy is.
func TestLadderConsumeSteps(t *testing.T) {
	mustHavePerfEvents(t)
	dir := t.TempDir()
	_, stderr, code := pipelab(t, dir, "ladder", "--modes", "write,write+consume,copy+consume,copy", "--bytes", "16MiB", "--repeat", "1", "--verify", "--out", "out")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "out")
	data, err := os.ReadFile(filepath.Join(out, "ladder.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lad result.Ladder
	if err := json.Unmarshal(data, &lad); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		mode, strategy, transport, ceiling string
		consume                            bool
	}{{"write", "", "pipe", "", false}, {"write+consume", "write", "pipe", "", true}, {"copy+consume", "copy", "memory", "", true}, {"copy", "", "memory", "copy", false}}
	if len(lad.Steps) != len(want) {
		t.Fatalf("%d steps, want %d", len(lad.Steps), len(want))
	}
	for i, w := range want {
		s := lad.Steps[i]
		if s.Mode != w.mode || s.Strategy != w.strategy || s.Transport != w.transport || s.Ceiling != w.ceiling || s.Consume != w.consume || len(s.CorruptOffsets) > 0 {
			t.Errorf("step %d: mode %q strategy %q transport %q ceiling %q consume %v corrupt %v; want %+v", i, s.Mode, s.Strategy, s.Transport, s.Ceiling, s.Consume, s.CorruptOffsets, w)
		}
		if _, err := os.Stat(filepath.Join(out, result.StepFile(w.mode))); err != nil {
			t.Error(err)
		}
	}
	if len(lad.Ceilings) != 1 || lad.Ceilings[0].Step != "copy" {
		t.Errorf("ceilings %+v, want the copy step's alone", lad.Ceilings)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "#### What changed from write to write+consume") {
		t.Errorf("report.md has no transition from write to write+consume")
	}
}

// TestRunCeilingModes: run takes the ceiling modes as any other, checks
// their bytes with --verify, and sets them against each other.
func TestRunCeilingModes(t *testing.T) {
	stdout, stderr, code := pipelab(t, t.TempDir(), "run", "--mode", "all", "--bytes", "8MiB", "--repeat", "1", "--verify", "--consume")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	for _, m := range []string{"socket", "ring", "ring-busy", "copy", "copy-dram"} {
		if !strings.Contains(stderr, "pipelab: "+m+": --verify: the reader checked every byte of 1 run(s): all as written") {
			t.Errorf("stderr does not say %s was verified:\n%s", m, stderr)
		}
	}
	if strings.Contains(stdout, "of copy") {
		t.Errorf("consuming copy and ring steps measure no ceiling, yet the table has ceiling columns:\n%s", stdout)
	}
}
