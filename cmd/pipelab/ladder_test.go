package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/result"
)

// TestLadderCommandStep runs two short ladders with dd as a step of its
// own between two of the post's, and checks what a user would: the step
// in ladder.json with its command, strategy and throughput, its section,
// flame graphs and diffs in report.md, dd's kernel path in its profile,
// and pipelab compare of the two folders taking the step like any other.
func TestLadderCommandStep(t *testing.T) {
	mustHavePerfEvents(t)
	dir := t.TempDir()
	const dd = "dd if=/dev/zero bs=256k status=none"
	for _, out := range []string{"a", "b"} {
		_, stderr, code := pipelab(t, dir, "ladder", "--modes", "write,dd,splice", "--writer-cmd", dd, "--mode", "splice",
			"--bytes", "32MiB", "--repeat", "2", "--out", out)
		if code != 0 {
			t.Fatalf("ladder: exit status %d: %s", code, stderr)
		}
		if !strings.Contains(stderr, `pipelab: dd: writer command "`+dd+`" (pid `) {
			t.Errorf("ladder's stderr does not say how the dd command ended:\n%s", stderr)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "a", result.LadderFile))
	if err != nil {
		t.Fatal(err)
	}
	var lad result.Ladder
	if err := json.Unmarshal(b, &lad); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range lad.Steps {
		names = append(names, s.Mode)
	}
	if strings.Join(names, ",") != "write,dd,splice" {
		t.Fatalf("ladder.json steps %v, want write, dd, splice", names)
	}
	s := lad.Steps[1]
	if s.Strategy != "splice" || s.WriterCmd != dd || s.ThroughputFrom != "unprofiled" || s.MedianGiBs <= 0 || len(s.Runs) != 2 || len(s.Commands) == 0 {
		t.Errorf("dd step: strategy %q, writer %q, throughput from %q, %.2f GiB/s over %d runs, %d command statuses; want splice, the command, unprofiled, a rate over 2 runs, the statuses",
			s.Strategy, s.WriterCmd, s.ThroughputFrom, s.MedianGiBs, len(s.Runs), len(s.Commands))
	}
	if p := readProfile(t, filepath.Join(dir, "a", "dd.writer.pb.gz")); !hasFrame(p, "dd", "anon_pipe_write") {
		t.Errorf("dd.writer.pb.gz: no sample of comm dd holds anon_pipe_write")
	}
	md, err := os.ReadFile(filepath.Join(dir, "a", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### dd — ", "writer `" + dd + "` on CPU", "reader pipelab's splice on CPU",
		"#### What changed from write to dd", "#### What changed from dd to splice",
		"![dd: the writer on CPU](dd.writer.svg)", "![write → dd: the writer](write-dd.writer.diff.svg)"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	checkEmbeddedSVGs(t, filepath.Join(dir, "a"), string(md))
	stdout, stderr, code := pipelab(t, dir, "compare", "--out", "cmp", "a", "b")
	if code != 0 {
		t.Fatalf("compare: exit status %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "dd, writer: inclusive share") {
		t.Errorf("compare output has no writer table for dd:\n%s", stdout)
	}
}

// checkEmbeddedSVGs fails unless every image report.md embeds is a file
// of dir.
func checkEmbeddedSVGs(t *testing.T, dir, md string) {
	t.Helper()
	for _, part := range strings.Split(md, "](")[1:] {
		name, _, _ := strings.Cut(part, ")")
		if !strings.HasSuffix(name, ".svg") {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("report.md embeds %s: %v", name, err)
		}
	}
}
