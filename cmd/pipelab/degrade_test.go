package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/result"
)

// thpOff points bench at a transparent_hugepage/enabled file that says
// never, as on a kernel booted with transparent_hugepage=never, until the
// test ends; it returns the file's path.
func thpOff(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "enabled")
	if err := os.WriteFile(path, []byte("always madvise [never]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bench.THPEnabledAt(path))
	return path
}

// TestLadderLeavesOutWhatTheKernelLacks runs the ladder on a machine whose
// transparent huge pages are off: the steps that need them are left out,
// each with its reason, on stderr, in ladder.json and in report.md, while
// the others run, and the ladder exits 0. When no step can run, it says
// why in one line and exits 2.
func TestLadderLeavesOutWhatTheKernelLacks(t *testing.T) {
	mustHavePerfEvents(t)
	path := thpOff(t)
	reason := "needs transparent huge pages, which are off: " + path + " is never (echo madvise > " + path + ")"
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := realMain([]string{"ladder", "--modes", "write,huge", "--bytes", "16MiB", "--repeat", "1", "--out", dir}, &cli{stdout: &stdout, stderr: &stderr})
	if code != exitOK {
		t.Fatalf("exit status %d, want 0; stderr:\n%s", code, stderr.String())
	}
	if want := "ladder: huge left out: " + reason + "\n"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
	if want := "left out: huge (report.md says why)"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
	}
	data, err := os.ReadFile(filepath.Join(dir, result.LadderFile))
	if err != nil {
		t.Fatal(err)
	}
	var lad result.Ladder
	if err := json.Unmarshal(data, &lad); err != nil {
		t.Fatal(err)
	}
	if len(lad.Steps) != 1 || lad.Steps[0].Mode != "write" || len(lad.Steps[0].Runs) != 1 {
		t.Errorf("ladder.json steps %+v, want write's one run", lad.Steps)
	}
	if want := []result.Skip{{Mode: "huge", Reason: reason}}; len(lad.Skipped) != 1 || lad.Skipped[0] != want[0] {
		t.Errorf("ladder.json skipped %+v, want %+v", lad.Skipped, want)
	}
	md, err := os.ReadFile(filepath.Join(dir, result.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := "- `huge`: " + reason + ".\n"; !strings.Contains(string(md), want) {
		t.Errorf("report.md lacks %q", want)
	}

	stdout.Reset()
	stderr.Reset()
	code = realMain([]string{"ladder", "--modes", "huge,busy", "--bytes", "16MiB", "--repeat", "1", "--out", t.TempDir()}, &cli{stdout: &stdout, stderr: &stderr})
	want := "pipelab: ladder: no step can run on this machine: huge, busy: " + reason + "\n"
	if code != exitUsage || stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("no step runnable: exit status %d, stderr %q, stdout %q; want 2 and %q", code, stderr.String(), stdout.String(), want)
	}
}

// TestLadderListLeavesOutOtherTransports: a pipe's flag (--pipe-size)
// given to a list of --modes (the default, post) runs the pipe steps with
// it and leaves out the ceilings, which have no pipe, each with the
// reason; the same flag with a ceiling named in --modes is a usage error.
func TestLadderListLeavesOutOtherTransports(t *testing.T) {
	o := bench.DefaultOptions()
	o.PipeSizeBytes = 1 << 20
	steps, err := parseModeList("post", "")
	if err != nil {
		t.Fatal(err)
	}
	run, skipped, err := runnableSteps(steps, "", o, isLadderList("post"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(run, ","); got != "write,vmsplice,splice,huge,busy" {
		t.Errorf("ran %s, want the post's pipe steps", got)
	}
	var left []string
	for _, sk := range skipped {
		left = append(left, sk.Mode)
		if !strings.HasPrefix(sk.Reason, "--pipe-size 1MiB: sizes a pipe, and mode ") {
			t.Errorf("%s left out for %q, want --pipe-size named", sk.Mode, sk.Reason)
		}
	}
	if got := strings.Join(left, ","); got != "copy,ring-busy,ring-busy+streaming" {
		t.Errorf("left out %s, want the ceilings", got)
	}
	steps, err = parseModeList("write,copy", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := runnableSteps(steps, "", o, isLadderList("write,copy")); err == nil || !strings.Contains(err.Error(), "--pipe-size 1MiB: sizes a pipe, and mode copy has none") {
		t.Errorf("--modes write,copy --pipe-size 1MiB: %v, want the usage error", err)
	}
}
