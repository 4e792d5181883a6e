package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/result"
)

// TestWarningsSayFlags runs what makes each of bench's warnings and
// errors that name an option: the user reads them with flag names, on
// stderr and in the saved step, word for word as before bench stopped
// spelling flags. The error that fails a run is saved among the step's
// warnings, and printed once, as the error.
func TestWarningsSayFlags(t *testing.T) {
	const readerRest = " (the rest of what pipelab's writer wrote, up to a pipe's worth, may have gone unread)"
	for _, c := range []struct {
		args []string
		code int
		want string // the warning, a regexp only where a size varies
	}{
		{[]string{"--writer-cmd", "head -c 1048576 /dev/zero", "--bytes", "2MiB"}, 0,
			regexp.QuoteMeta("the writer command closed the pipe after 1MiB, before --bytes 2MiB")},
		{[]string{"--reader-cmd", "head -c 1048576 >/dev/null", "--bytes", "1GiB"}, 0,
			regexp.QuoteMeta("the reader command closed the pipe after taking at most ") + `\d+KiB` + regexp.QuoteMeta(", before --bytes 1GiB"+readerRest)},
		{[]string{"--writer-cmd", "head -c 1048576 /dev/zero", "--reader-cmd", "cat >/dev/null"}, 0,
			regexp.QuoteMeta("both sides are commands: bytes are the smaller of the writer's wchar and the reader's rchar (/proc/PID/io: read/write/sendfile family, no splice or vmsplice; they agree within 1%), time is from the gate to the later exit, and --bytes stops nothing")},
		{[]string{"--mode", "vmsplice", "--buf-size", "256KiB", "--pipe-size", "256KiB", "--bytes", "16MiB"}, 0,
			regexp.QuoteMeta("pipe size 256KiB is more than half the 256KiB buffer: the vmsplice writer rewrites pages still in the pipe, so the reader gets wrong bytes (the post's double buffer needs a pipe of half the buffer; --verify shows it)")},
		{[]string{"--reader-cmd", "sleep 3", "--bytes", "1GiB", "--timeout", "1s"}, 1,
			regexp.QuoteMeta("run 1 of 1: reader: made no progress for 1s (--timeout)")},
	} {
		args := append([]string{"run", "--repeat", "1", "--json"}, c.args...)
		stdout, stderr, code := pipelab(t, t.TempDir(), args...)
		if code != c.code {
			t.Errorf("pipelab %q: exit status %d, want %d; stderr:\n%s", args, code, c.code, stderr)
			continue
		}
		var s result.Step
		if err := json.Unmarshal([]byte(stdout), &s); err != nil {
			t.Errorf("pipelab %q: decode %q: %v", args, stdout, err)
			continue
		}
		want := regexp.MustCompile("^" + c.want + "$")
		if len(s.Warnings) != 1 || !want.MatchString(s.Warnings[0]) {
			t.Errorf("pipelab %q: saved warnings %q, want one matching %q", args, s.Warnings, want)
		}
		line := regexp.MustCompile("(?m)^pipelab: " + regexp.QuoteMeta(s.Mode) + ": warning: " + c.want + "$")
		if c.code == 0 && !line.MatchString(stderr) {
			t.Errorf("pipelab %q: stderr has no line matching %q:\n%s", args, line, stderr)
		}
		if c.code != 0 && (line.MatchString(stderr) || !strings.HasSuffix(stderr, "pipelab: run "+s.Mode+": "+s.Warnings[0]+"\n")) {
			t.Errorf("pipelab %q: stderr does not say the error %q once, as its last line:\n%s", args, s.Warnings[0], stderr)
		}
	}
}

// TestMessage renders a stalled child's error inside wrapped and joined
// errors with its flag, and other errors as they are.
func TestMessage(t *testing.T) {
	ce := &bench.ChildError{Role: "reader", ExitStatus: -1, Stalled: time.Second}
	wrapped := fmt.Errorf("run write: %w", fmt.Errorf("run 1 of 1: %w", ce))
	for _, c := range []struct {
		err  error
		want string
	}{
		{ce, "reader: made no progress for 1s (--timeout)"},
		{wrapped, "run write: run 1 of 1: reader: made no progress for 1s (--timeout)"},
		{errors.Join(wrapped, errors.New("save: disk full")), "run write: run 1 of 1: reader: made no progress for 1s (--timeout)\nsave: disk full"},
		{fmt.Errorf("%w, then %w", ce, errors.New("x")), "reader: made no progress for 1s (Timeout), then x"},
		{errors.New("plain"), "plain"},
		{fmt.Errorf("ladder step huge: %w", &bench.OptionError{Fields: []string{"PinWriter", "PinReader"}, Value: "0,3", Problem: bench.Message{{Words: "CPU 3 is not online"}}, Remedy: bench.Message{{Words: "use CPUs from 0,1"}}}),
			"ladder step huge: --pin 0,3: CPU 3 is not online (use CPUs from 0,1)"},
	} {
		if got := message(c.err); got != c.want {
			t.Errorf("message(%v): got %q, want %q", c.err, got, c.want)
		}
	}
}
