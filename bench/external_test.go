package bench

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// command returns options for one real run with the given commands.
func command(mode, writer, reader string, bytes int64) Options {
	o := one(mode)
	o.WriterCmd, o.ReaderCmd, o.Bytes = writer, reader, bytes
	return o
}

// groupLeft lists the live processes (not zombies) whose process group
// is pgid, giving a process that was sent SIGKILL a moment to go.
func groupLeft(pgid int) []int {
	var left []int
	for try := 0; try < 50; try++ {
		if left = groupMembers(pgid); len(left) == 0 {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return left
}

func groupMembers(pgid int) []int {
	var left []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			left = append(left, pid)
		}
	}
	return left
}

func TestWriterCommandIntoPipelabReader(t *testing.T) {
	for _, tc := range []struct {
		name, mode, cmd string
		bytes, want     int64
		afterClose      bool
	}{
		{"head ends the stream", "write", "head -c 16777216 /dev/zero", 64 << 20, 16 << 20, false},
		{"reader stops cat", "splice", "cat /dev/zero", 16 << 20, 16 << 20, true},
		{"pipeline in the command", "write", "cat /dev/zero | cat", 8 << 20, 8 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(context.Background(), command(tc.mode, tc.cmd, "", tc.bytes), nil, nil)
			noChildren(t)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			r := res.Runs[0]
			if r.Bytes != tc.want || r.Reader.Bytes != tc.want || r.GiBPerSec <= 0 {
				t.Errorf("got %d bytes (reader %d) at %.2f GiB/s, want %d", r.Bytes, r.Reader.Bytes, r.GiBPerSec, tc.want)
			}
			if len(r.Commands) != 1 {
				t.Fatalf("got %d command statuses, want 1", len(r.Commands))
			}
			c := r.Commands[0]
			afterClose := strings.HasSuffix(c.Status, " after the reader closed the pipe")
			if c.Role != "writer" || c.Command != tc.cmd || afterClose != tc.afterClose || c.PID != r.WriterPID {
				t.Errorf("got status %+v, want the writer %q (pid %d), after close %v", c, tc.cmd, r.WriterPID, tc.afterClose)
			}
			if !tc.afterClose && (c.ExitStatus != 0 || c.WrittenBytes != tc.want) {
				t.Errorf("got %s having written %d bytes, want status 0 and %d bytes", c.Status, c.WrittenBytes, tc.want)
			}
			if left := groupLeft(c.PID); len(left) > 0 {
				t.Errorf("processes of the writer command left: %v", left)
			}
		})
	}
}

func TestReaderCommandBehindPipelabWriter(t *testing.T) {
	for _, mode := range []string{"write", "vmsplice"} {
		t.Run(mode, func(t *testing.T) {
			res, err := Run(context.Background(), command(mode, "", "wc -c", 16<<20), nil, nil)
			noChildren(t)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			r := res.Runs[0]
			if r.Bytes != 16<<20 || r.Writer.Bytes != 16<<20 || r.GiBPerSec <= 0 {
				t.Errorf("got %d bytes (writer %d) at %.2f GiB/s, want %d", r.Bytes, r.Writer.Bytes, r.GiBPerSec, 16<<20)
			}
			c := r.Commands[0]
			if got := strings.TrimSpace(c.Stdout); got != "16777216" || c.ExitStatus != 0 {
				t.Errorf("wc -c printed %q and %s, want 16777216 and status 0", got, c.Status)
			}
		})
	}
}

func TestBothSidesCommands(t *testing.T) {
	res, err := Run(context.Background(), command("write", "head -c 16777216 /dev/zero", "cat >/dev/null", 1), nil, nil)
	noChildren(t)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	r := res.Runs[0]
	if r.Bytes != 16<<20 || r.Duration <= 0 {
		t.Errorf("got %d bytes in %v, want %d in some time", r.Bytes, r.Duration, 16<<20)
	}
	if len(r.Commands) != 2 {
		t.Fatalf("got %d command statuses, want 2", len(r.Commands))
	}

	// A pipeline inside the writer writes twice what crosses the pipe:
	// the accounting disagrees, and the run says it cannot count.
	res, err = Run(context.Background(), command("write", "head -c 16777216 /dev/zero | cat", "cat >/dev/null", 1), nil, nil)
	noChildren(t)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if r := res.Runs[0]; r.Bytes != 0 || !strings.Contains(strings.Join(texts(res.Warnings), "\n"), "cannot be counted honestly") {
		t.Errorf("got %d bytes and warnings %q, want 0 and a warning that the bytes cannot be counted", r.Bytes, res.Warnings)
	}
}

func TestCommandFailures(t *testing.T) {
	for _, tc := range []struct {
		name, writer, reader string
		want                 string
	}{
		{"not found", "pipelab-no-such-command", "", `writer command "pipelab-no-such-command": exited with status 127: sh: 1: pipelab-no-such-command: not found`},
		{"exit 3", "exit 3", "", `writer command "exit 3": exited with status 3`},
		{"SIGKILL", "", "kill -KILL $$", `reader command "kill -KILL $$": killed by signal 9 (SIGKILL)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(context.Background(), command("write", tc.writer, tc.reader, 16<<20), nil, nil)
			noChildren(t)
			var ce *ChildError
			if !errors.As(err, &ce) || ce.Error() != tc.want {
				t.Fatalf("got error %v, want %s", err, tc.want)
			}
			if res == nil || !res.Incomplete {
				t.Errorf("got result %+v, want one marked incomplete", res)
			}
		})
	}
}

// TestCommandIgnoringSIGTERM stops a reader command that ignores SIGTERM
// and never reads: --timeout ends the run, SIGKILL follows termGrace
// after SIGTERM, and nothing of the command is left.
func TestCommandIgnoringSIGTERM(t *testing.T) {
	defer func(g time.Duration) { termGrace = g }(termGrace)
	termGrace = 300 * time.Millisecond
	o := command("write", "", "trap '' TERM; sleep 30", 16<<20)
	o.Timeout = 500 * time.Millisecond
	start := time.Now()
	res, err := Run(context.Background(), o, nil, nil)
	noChildren(t)
	var ce *ChildError
	if !errors.As(err, &ce) || ce.Stalled == 0 {
		t.Fatalf("got error %v, want a --timeout stall", err)
	}
	if d := time.Since(start); d < o.Timeout+termGrace || d > 10*time.Second {
		t.Errorf("Run took %v, want --timeout plus the SIGTERM grace (%v), within a few seconds", d, o.Timeout+termGrace)
	}
	if cs := res.Runs[0].Commands; len(cs) != 1 || cs[0].Status != "killed by SIGKILL (stopped by pipelab)" {
		t.Errorf("got command statuses %+v, want the reader stopped by SIGKILL", cs)
	}
	pid := res.Runs[0].ReaderPID
	if left := groupLeft(pid); len(left) > 0 {
		t.Errorf("processes of the reader command left: %v", left)
	}
}

// TestShortRun: a run whose command closed the pipe having moved no more
// than a pipe's worth, short of what was asked, fails with one line that
// says so, instead of a throughput of nothing.
func TestShortRun(t *testing.T) {
	for _, tc := range []struct {
		name, writer, reader string
		want                 string
	}{
		{"writer writes nothing", "true", "",
			`writer command "true" exited with status 0 having written nothing into the pipe: nothing to time`},
		{"writer writes 3 bytes", "echo hi", "",
			`writer command "echo hi" exited with status 0 having written 3 bytes into the pipe of the 64MiB asked (Bytes), no more than the pipe holds (64KiB): too little to time`},
		{"reader closes at once", "", "exec 0<&-; sleep 0.2",
			`reader command "exec 0<&-; sleep 0.2" exited with status 0 having taken at most 64KiB of the 64MiB asked (Bytes), no more than the pipe holds (64KiB), so no byte is known to have crossed: nothing to time`},
		{"both commands, nothing written", "true", "cat",
			`writer command "true" exited with status 0 having written nothing into the pipe: nothing to time`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := command("write", tc.writer, tc.reader, 64<<20)
			res, err := Run(context.Background(), o, nil, nil)
			noChildren(t)
			var se *ShortError
			if !errors.As(err, &se) {
				t.Fatalf("got error %v, want a *ShortError", err)
			}
			if got := se.Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !res.Incomplete || len(res.Runs) != 1 || !res.Runs[0].Partial {
				t.Errorf("got Incomplete %v, runs %+v; want one partial run and Incomplete", res.Incomplete, res.Runs)
			}
		})
	}
}
