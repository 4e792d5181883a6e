package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"
)

// recorder is a testing.TB that records Skipf and Fatalf instead of
// stopping the goroutine.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Skipf(format string, a ...any)  { r.skipped = fmt.Sprintf(format, a...) }
func (r *recorder) Fatalf(format string, a ...any) { r.failed = fmt.Sprintf(format, a...) }

func TestRequire(t *testing.T) {
	refused := errors.New("permission denied")
	for _, tc := range []struct {
		name, env     string
		err           error
		skip, failure string
	}{
		{name: "available", err: nil},
		{name: "refused", err: refused, skip: "perf events refused: permission denied"},
		{name: "refused, required", env: "1", err: refused, failure: "perf events refused and PIPELAB_REQUIRE_PERF=1: permission denied"},
		{name: "available, required", env: "1", err: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(RequireEnv, tc.env)
			r := &recorder{TB: t}
			Require(r, tc.err, "perf events")
			if r.skipped != tc.skip || r.failed != tc.failure {
				t.Errorf("got skip %q fail %q, want skip %q fail %q", r.skipped, r.failed, tc.skip, tc.failure)
			}
		})
	}
}

func TestChildren(t *testing.T) {
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep to start: %v", err)
	}
	pid := cmd.Process.Pid
	if got := Children(os.Getpid()); !slices.Contains(got, pid) {
		t.Errorf("Children while sleep %d runs: got %v, want it listed", pid, got)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if got := Children(os.Getpid()); slices.Contains(got, pid) {
		t.Errorf("Children after Wait: got %v, want %d gone", got, pid)
	}
}
