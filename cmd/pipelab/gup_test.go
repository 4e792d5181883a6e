package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/gup"
	"github.com/pipelab/pipelab/internal/fixture"
)

// TestGup runs pipelab gup: where the kernel has gup_test, the table of
// both buffers; here, without CONFIG_GUP_TEST, one line saying so with the
// remedy, exit status 2, and the figures derived from the samples of the
// captured steps instead.
func TestGup(t *testing.T) {
	from := fixture.Dir()
	stdout, stderr, code := pipelab(t, t.TempDir(), "gup", "--bytes", "64MiB", "--from", from)
	if err := gup.Probe(); !errors.Is(err, gup.ErrNotSupported) {
		if err != nil {
			t.Skipf("gup_test refused: %v", err)
		}
		if code != 0 || !strings.Contains(stdout, "small pages") || !strings.Contains(stdout, "huge page") {
			t.Fatalf("status %d, stdout %q, stderr %q: want 0 and both rows", code, stdout, stderr)
		}
		return
	}
	if code != 2 {
		t.Errorf("exit status: got %d, want 2", code)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "pipelab: gup: ") || !strings.Contains(lines[0], "CONFIG_GUP_TEST=y") || !strings.Contains(lines[0], "debugfs") {
		t.Errorf("stderr %q: want one line naming CONFIG_GUP_TEST=y and debugfs", stderr)
	}
	for _, want := range []string{"splice (small pages): writer: get_user_pages_fast (as gup_fast_fallback) ", "huge (huge pages): writer: get_user_pages_fast", " per 4 KiB page (95% CI "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	_, _, code = pipelab(t, t.TempDir(), "gup", "--from", t.TempDir())
	if code != 2 {
		t.Errorf("gup with an empty --from: status %d, want 2", code)
	}
}
