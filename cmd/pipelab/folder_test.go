package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pipelab/pipelab/internal/testenv"
	"github.com/pipelab/pipelab/result"
)

// TestLadderInterrupted: a ladder stopped by SIGINT records in
// ladder.json that it was interrupted and what it planned; pipelab
// report then says, in one line and at the top of report.md, which steps
// have no results, and keeps the planned order.
func TestLadderInterrupted(t *testing.T) {
	mustHavePerfEvents(t)
	dir := t.TempDir()
	cmd := pipelabCmd(t, dir, "ladder", "--modes", "write,vmsplice", "--bytes", "1TiB", "--repeat", "2", "--out", "out")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit status %d, want 130; stderr:\n%s", code, stderr.String())
	}
	var lad result.Ladder
	data, err := os.ReadFile(filepath.Join(dir, "out", result.LadderFile))
	if err != nil {
		t.Fatalf("no ladder.json: %v", err)
	}
	if err := json.Unmarshal(data, &lad); err != nil {
		t.Fatal(err)
	}
	if lad.Status != result.StatusInterrupted || strings.Join(lad.Planned, ",") != "write,vmsplice" {
		t.Errorf("ladder.json: status %q, planned %q; want interrupted, write,vmsplice", lad.Status, lad.Planned)
	}
	stdout, errText, code := pipelab(t, dir, "report", "out")
	line := regexp.MustCompile(`^pipelab: warning: out: the ladder was interrupted \(SIGINT or SIGTERM\): .*(have no results|of 2 runs).*\n$`)
	if code != 0 || !line.MatchString(errText) || stdout != "out/report.md\n" {
		t.Errorf("pipelab report: status %d, stdout %q, stderr %q; want 0, the report's path and one warning line", code, stdout, errText)
	}
	md, err := os.ReadFile(filepath.Join(dir, "out", result.ReportFile))
	if err != nil || !bytes.Contains(md, []byte("**Incomplete:** the ladder was interrupted")) {
		t.Errorf("report.md does not say the ladder is incomplete (%v)", err)
	}
}

// TestLadderNoSpace: a ladder whose folder fills up still prints its
// figures on stdout, names the file it could not write (not a temporary
// file) with the remedy, exits 1, and leaves no temporary file.
func TestLadderNoSpace(t *testing.T) {
	mustHavePerfEvents(t)
	dir := t.TempDir()
	mnt := filepath.Join(dir, "small")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	testenv.Require(t, unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=64k"), "mounting a 64KiB tmpfs")
	defer unix.Unmount(mnt, unix.MNT_DETACH)
	out := filepath.Join(mnt, "out")
	stdout, stderr, code := pipelab(t, dir, "ladder", "--modes", "write", "--bytes", "64MiB", "--repeat", "1", "--out", out)
	if code != 1 {
		t.Fatalf("exit status %d, want 1; stderr:\n%s", code, stderr)
	}
	if !regexp.MustCompile(`(?m)^write +\d+\.\d\d`).MatchString(stdout) {
		t.Errorf("stdout has no throughput row of write:\n%s", stdout)
	}
	last := regexp.MustCompile(`write ` + regexp.QuoteMeta(out) + `/[a-z.]+: no space left on device \(free some space on its file system, or choose another folder with --out\)\n$`)
	if !last.MatchString(stderr) || strings.Contains(stderr, ".tmp") {
		t.Errorf("stderr does not end with the file that could not be written and the remedy:\n%s", stderr)
	}
	if tmps, _ := filepath.Glob(filepath.Join(out, ".*")); len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// TestReportReadOnly: pipelab report into a folder this user cannot
// write names the file and the remedy, exits 2, and shows no temporary
// file's name.
func TestReportReadOnly(t *testing.T) {
	ro, err := os.MkdirTemp("", "pipelab-ro-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(ro)
	step := `{"version":2,"mode":"write","bytes":1048576,"repeat":1,"runs":[1.5],"median_gib_s":1.5,"min_gib_s":1.5,"max_gib_s":1.5}`
	if err := os.WriteFile(filepath.Join(ro, "write.json"), []byte(step), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(ro, 0o755)
	_, out, err := asNobody(t, "report", ro)
	var ee *exec.ExitError
	want := fmt.Sprintf("pipelab: write %s/throughput.svg: permission denied (choose a folder you can write to, or change its permissions)\n", ro)
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || string(out) != want {
		t.Errorf("pipelab report as uid 65534: %v, output\n%s\nwant exit status 2 and\n%s", err, out, want)
	}
}

// TestProfileReplacesStep: a profile into a folder that holds the same
// step replaces all of the step's files (the wall view's profiles of an
// earlier run do not stay beside a cpu view's), and the report made from
// all steps; a step of another name stays.
func TestProfileReplacesStep(t *testing.T) {
	mustHavePerfEvents(t)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--mode", "splice", "--view", "wall"},
		{"--mode", "write", "--view", "wall"},
		{"--mode", "write"},
	} {
		args = append([]string{"profile", "--bytes", "16MiB", "--out", "out"}, args...)
		if _, stderr, code := pipelab(t, dir, args...); code != 0 {
			t.Fatalf("pipelab %q: exit status %d\n%s", args, code, stderr)
		}
	}
	if walls, _ := filepath.Glob(filepath.Join(dir, "out", "write.*.wall.pb.gz")); len(walls) > 0 {
		t.Errorf("the wall view's files of the replaced write step stay: %v", walls)
	}
	if walls, _ := filepath.Glob(filepath.Join(dir, "out", "splice.*.wall.pb.gz")); len(walls) != 2 {
		t.Errorf("splice's wall profiles: got %v, want both roles'", walls)
	}
}
