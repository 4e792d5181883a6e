package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// endless returns options for a run that would last for hours, so that a
// test can hurt it while it is under way.
func endless(mode string) Options {
	o := one(mode)
	o.Bytes = 1 << 40
	return o
}

// checkFailed checks what Run returned for a run that a child broke:
// a *ChildError with the want text, Incomplete set, the broken run kept
// as the last, partial run, and no child left.
func checkFailed(t *testing.T, res *Result, err error, wantRuns int, want string) *ChildError {
	t.Helper()
	noChildren(t)
	var ce *ChildError
	if !errors.As(err, &ce) {
		t.Fatalf("Run error = %v, want a *ChildError", err)
	}
	if err.Error() != want {
		t.Errorf("Run error:\n got %q\nwant %q", err, want)
	}
	if errors.Is(err, ErrInterrupted) {
		t.Errorf("a child failure wraps ErrInterrupted: %v", err)
	}
	if res == nil {
		t.Fatalf("Run returned no Result with %v", err)
	}
	if !res.Incomplete || res.Interrupted {
		t.Errorf("Result: Incomplete %v, Interrupted %v; want true, false", res.Incomplete, res.Interrupted)
	}
	if len(res.Runs) != wantRuns {
		t.Fatalf("got %d runs, want %d (the completed ones and the broken one)", len(res.Runs), wantRuns)
	}
	for i, r := range res.Runs {
		if last := i == len(res.Runs)-1; r.Partial != last {
			t.Errorf("run %d: Partial %v, want %v", i+1, r.Partial, last)
		}
	}
	last := res.Runs[len(res.Runs)-1]
	if last.WriterPID == 0 || last.ReaderPID == 0 {
		t.Errorf("broken run: writer pid %d, reader pid %d; want both", last.WriterPID, last.ReaderPID)
	}
	return ce
}

// TestFaultExit: a child that exits with a non-zero status (the test hook
// makes it exit 3 once it is ready) fails the run, blamed on its role with
// its own message, and the other child is stopped.
func TestFaultExit(t *testing.T) {
	for _, role := range []string{"writer", "reader"} {
		t.Run(role, func(t *testing.T) {
			t.Setenv(envFault, role+":exit3")
			res, err := Run(context.Background(), one("write"), nil, nil)
			ce := checkFailed(t, res, err, 1,
				"run 1 of 1: "+role+": exited with status 3: test fault: exit 3 requested by PIPELAB_TEST_FAULT")
			if ce.Role != role || ce.ExitStatus != 3 || ce.Signal != 0 {
				t.Errorf("ChildError = %+v, want role %s, status 3, no signal", ce, role)
			}
		})
	}
}

// TestFaultKilled hurts a child in the middle of a transfer: SIGKILL and
// SIGTERM kill it, SIGABRT makes the Go runtime crash (stack dump, exit
// status 2), as a real crash would. The writer's death makes the reader
// see an early EOF; the blame must still go to the writer.
func TestFaultKilled(t *testing.T) {
	cases := []struct {
		sig  syscall.Signal
		want string
	}{
		{syscall.SIGKILL, "killed by signal 9 (SIGKILL)"},
		{syscall.SIGTERM, "killed by signal 15 (SIGTERM)"},
		{syscall.SIGABRT, "exited with status 2: SIGABRT: abort"},
	}
	for _, mode := range []string{"write", "splice"} {
		for _, role := range []string{"writer", "reader"} {
			for _, c := range cases {
				t.Run(fmt.Sprintf("%s/%s/%s", mode, role, c.sig), func(t *testing.T) {
					res, err := runHurting(t, endless(mode), role, c.sig)
					ce := checkFailed(t, res, err, 1, "run 1 of 1: "+role+": "+c.want)
					if ce.Role != role {
						t.Errorf("blamed %s, want %s", ce.Role, role)
					}
					if r := res.Runs[0]; r.Bytes <= 0 || r.Duration <= 0 {
						t.Errorf("broken run: %d bytes in %v; want what moved before the fault", r.Bytes, r.Duration)
					}
				})
			}
		}
	}
}

// runHurting runs o and sends sig to the child of role once progress has
// been reported (bytes are moving).
func runHurting(t *testing.T, o Options, role string, sig syscall.Signal) (*Result, error) {
	var pids [2]int
	obs := &observer{attach: func(w, r int) error { pids = [2]int{w, r}; return nil }}
	sent := false
	progress := func(p Progress) {
		if sent || p.Bytes == 0 {
			return
		}
		pid := pids[0]
		if role == "reader" {
			pid = pids[1]
		}
		if err := syscall.Kill(pid, sig); err != nil {
			t.Errorf("kill %s %d: %v", role, pid, err)
		}
		sent = true
	}
	return Run(context.Background(), o, obs, progress)
}

// TestFaultStall: a child that stops making progress (the test hook makes
// it sleep after its first buffer) is caught by Options.Timeout and blamed,
// while the other one, blocked on the pipe, is not.
func TestFaultStall(t *testing.T) {
	for _, mode := range []string{"write", "vmsplice", "splice", "busy"} {
		for _, role := range []string{"writer", "reader"} {
			t.Run(mode+"/"+role, func(t *testing.T) {
				if planFor(Options{Mode: mode}).Huge {
					mustHaveHugePages(t)
				}
				t.Setenv(envFault, role+":stall")
				o := endless(mode)
				o.Timeout = time.Second
				start := time.Now()
				res, err := Run(context.Background(), o, nil, nil)
				ce := checkFailed(t, res, err, 1, "run 1 of 1: "+role+": made no progress for 1s (Timeout)")
				if ce.Stalled != time.Second || ce.Role != role {
					t.Errorf("ChildError = %+v, want role %s stalled 1s", ce, role)
				}
				if took := time.Since(start); took > 10*time.Second {
					t.Errorf("the stall was noticed after %v, want about 1s", took)
				}
			})
		}
	}
}

// TestFaultKeepsCompletedRuns breaks the second of three runs (its reader
// is killed while gated): the first run is kept, complete.
func TestFaultKeepsCompletedRuns(t *testing.T) {
	o := one("vmsplice")
	o.Repeat = 3
	attaches := 0
	obs := &observer{attach: func(w, r int) error {
		if attaches++; attaches == 2 {
			return syscall.Kill(r, syscall.SIGKILL)
		}
		return nil
	}}
	res, err := Run(context.Background(), o, obs, nil)
	checkFailed(t, res, err, 2, "run 2 of 3: reader: killed by signal 9 (SIGKILL)")
	if r := res.Runs[0]; r.Bytes != o.Bytes || r.GiBPerSec <= 0 {
		t.Errorf("run 1: %d bytes at %v GiB/s, want %d bytes and a speed", r.Bytes, r.GiBPerSec, o.Bytes)
	}
	if med, _, _ := res.GiBPerSec(); med != res.Runs[0].GiBPerSec {
		t.Errorf("median %v over the complete runs, want run 1's %v", med, res.Runs[0].GiBPerSec)
	}
	if attaches != 2 {
		t.Errorf("observer attached %d times, want 2 (no run after the failure)", attaches)
	}
}

// TestInterrupt cancels the context (what SIGINT does in the command) in
// the middle of a transfer, and before the second run starts.
func TestInterrupt(t *testing.T) {
	t.Run("mid-transfer", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		res, err := Run(ctx, endless("splice"), nil, func(p Progress) {
			if p.Bytes > 0 {
				cancel()
			}
		})
		checkInterrupted(t, res, err, 1)
		if r := res.Runs[0]; r.Bytes <= 0 {
			t.Errorf("interrupted run: %d bytes, want what moved before", r.Bytes)
		}
	})
	t.Run("second run", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		o := one("write")
		o.Repeat = 3
		attaches := 0
		obs := &observer{attach: func(w, r int) error {
			if attaches++; attaches == 2 {
				cancel()
			}
			return nil
		}}
		res, err := Run(ctx, o, obs, nil)
		checkInterrupted(t, res, err, 2)
		if r := res.Runs[0]; r.Bytes != o.Bytes {
			t.Errorf("run 1: %d bytes, want %d", r.Bytes, o.Bytes)
		}
	})
	t.Run("before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res, err := Run(ctx, one("write"), nil, nil)
		noChildren(t)
		if !errors.Is(err, ErrInterrupted) || res == nil || !res.Interrupted {
			t.Fatalf("Run with a cancelled context: %v (result %+v), want ErrInterrupted and Interrupted", err, res)
		}
	})
}

// checkInterrupted checks what Run returned once its context was
// cancelled during run number wantRuns.
func checkInterrupted(t *testing.T, res *Result, err error, wantRuns int) {
	t.Helper()
	noChildren(t)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run error = %v, want ErrInterrupted", err)
	}
	if want := fmt.Sprintf("run %d of ", wantRuns); !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Run error %q, want it to start with %q", err, want)
	}
	if res == nil || !res.Interrupted || res.Incomplete {
		t.Fatalf("Result %+v: want Interrupted and not Incomplete", res)
	}
	if len(res.Runs) != wantRuns || !res.Runs[wantRuns-1].Partial {
		t.Fatalf("got %d runs, want %d with the last partial", len(res.Runs), wantRuns)
	}
	for i, r := range res.Runs[:wantRuns-1] {
		if r.Partial {
			t.Errorf("run %d: Partial, want complete", i+1)
		}
	}
}

// TestObserverErrors: a failing Attach or Stop fails the run; the children
// are reaped and Stop is called once for every Attach.
func TestObserverErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		name string
		obs  *observer
		want string
	}{
		{"attach", &observer{attach: func(int, int) error { return boom }}, "run 1 of 1: observer attach: boom"},
		{"start", &observer{start: func() error { return boom }}, "run 1 of 1: observer start: boom"},
		{"stop", &observer{stop: func() error { return boom }}, "run 1 of 1: observer stop: boom"},
	} {
		t.Run(c.name, func(t *testing.T) {
			attach, stop := c.obs.attach, c.obs.stop
			attaches, stops := 0, 0
			c.obs.attach = func(w, r int) error {
				attaches++
				if attach != nil {
					return attach(w, r)
				}
				return nil
			}
			c.obs.stop = func() error {
				stops++
				if stop != nil {
					return stop()
				}
				return nil
			}
			res, err := Run(context.Background(), one("write"), c.obs, nil)
			noChildren(t)
			if err == nil || err.Error() != c.want || !errors.Is(err, boom) {
				t.Fatalf("Run error = %v, want %q wrapping the observer's error", err, c.want)
			}
			if res == nil || !res.Incomplete {
				t.Errorf("Result %+v, want Incomplete", res)
			}
			if attaches != 1 || stops != 1 {
				t.Errorf("Attach called %d times, Stop %d; want 1 and 1", attaches, stops)
			}
		})
	}
}

// exitedKid runs a shell script as a finished child of role, for testing
// the runner's blame logic on real exit statuses.
func exitedKid(t *testing.T, role, script string) *kid {
	t.Helper()
	k := &kid{role: role, cmd: exec.Command("/bin/sh", "-c", script), msgs: make(chan childMsg),
		done: make(chan struct{}), stderr: &headBuffer{}}
	k.cmd.Stderr = k.stderr
	k.cmd.Run()
	close(k.msgs)
	close(k.done)
	return k
}

// TestFailBlamesCause covers the order Run cannot choose: the reader's
// exit (early EOF, status 4) is seen before the writer's death that caused
// it. The writer must be blamed; a reader that fails on its own is.
func TestFailBlamesCause(t *testing.T) {
	cases := []struct {
		name, reader, writer, want string
	}{
		{"writer killed, reader saw EOF first", "exit 4", "kill -9 $$", "writer: killed by signal 9 (SIGKILL)"},
		{"writer crashed, reader saw EOF first", "exit 4", "echo 'panic: oops' >&2; exit 2", "writer: exited with status 2: panic: oops"},
		{"reader killed, writer fine", "kill -9 $$", "exit 0", "reader: killed by signal 9 (SIGKILL)"},
		{"reader failed on its own", "echo 'read from pipe: bad' >&2; exit 1", "exit 0", "reader: exited with status 1: read from pipe: bad"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &runner{reader: exitedKid(t, "reader", c.reader), writer: exitedKid(t, "writer", c.writer)}
			if err := r.fail(r.reader, r.writer); err == nil || err.Error() != c.want {
				t.Errorf("fail(reader, writer) = %v, want %q", err, c.want)
			}
		})
	}
}

// TestFaultStopped: a child stopped by SIGSTOP (a debugger, a stray
// Ctrl-Z) makes no progress; --timeout must catch it, blame it, and still
// reap it (SIGKILL works on a stopped process).
func TestFaultStopped(t *testing.T) {
	for _, mode := range []string{"write", "splice"} {
		for _, role := range []string{"writer", "reader"} {
			t.Run(mode+"/"+role, func(t *testing.T) {
				o := endless(mode)
				o.Timeout = time.Second
				res, err := runHurting(t, o, role, syscall.SIGSTOP)
				ce := checkFailed(t, res, err, 1, "run 1 of 1: "+role+": made no progress for 1s (Timeout)")
				if ce.Role != role {
					t.Errorf("blamed %s, want %s", ce.Role, role)
				}
			})
		}
	}
}

// TestFaultSetup: a child whose setup fails (mlock refused, no huge page,
// ...) reports its error before the gate; Run stops the other child and
// says which role failed and why. The test hook stands in for the real
// failures, which root cannot provoke here.
func TestFaultSetup(t *testing.T) {
	for _, role := range []string{"writer", "reader"} {
		t.Run(role, func(t *testing.T) {
			t.Setenv(envFault, role+":setup")
			attached := false
			obs := &observer{attach: func(int, int) error { attached = true; return nil }}
			res, err := Run(context.Background(), one("vmsplice"), obs, nil)
			ce := checkFailed(t, res, err, 1,
				"run 1 of 1: "+role+": exited with status 1: test fault: setup failure requested by PIPELAB_TEST_FAULT")
			if ce.Role != role || ce.ExitStatus != exitFailed {
				t.Errorf("ChildError = %+v, want role %s, status %d", ce, role, exitFailed)
			}
			if attached {
				t.Errorf("the observer was attached to a run whose %s failed its setup", role)
			}
		})
	}
}

// TestProgress: progress reports come from Run's goroutine while bytes
// move, numbered by run, with growing byte counts and times.
func TestProgress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []Progress
	_, err := Run(ctx, endless("splice"), nil, func(p Progress) {
		if got = append(got, p); len(got) == 4 {
			cancel()
		}
	})
	noChildren(t)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run: %v, want ErrInterrupted", err)
	}
	for i, p := range got {
		if p.Run != 1 || p.Elapsed <= 0 {
			t.Errorf("report %d: %+v, want run 1 and a positive elapsed time", i, p)
		}
		if i > 0 && (p.Bytes < got[i-1].Bytes || p.Elapsed <= got[i-1].Elapsed) {
			t.Errorf("report %d: %+v after %+v, want bytes and time to grow", i, p, got[i-1])
		}
	}
	if len(got) < 4 || got[len(got)-1].Bytes == 0 {
		t.Errorf("reports %+v, want 4 with bytes moving", got)
	}
}

// hangingKid starts a process that never talks and never exits by itself,
// as a child of role stuck in its setup or ignoring EPIPE.
// A command line after role replaces sleep 600.
func hangingKid(t *testing.T, role string, argv ...string) *kid {
	t.Helper()
	if len(argv) == 0 {
		argv = []string{"sleep", "600"}
	}
	k := &kid{role: role, cmd: exec.Command(argv[0], argv[1:]...), msgs: make(chan childMsg),
		done: make(chan struct{}), stderr: &headBuffer{}}
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		k.cmd.Wait()
		close(k.done)
	}()
	t.Cleanup(k.kill)
	return k
}

// setLimit shortens one of the runner's hang limits for a test.
func setLimit(t *testing.T, limit *time.Duration, d time.Duration) {
	old := *limit
	*limit = d
	t.Cleanup(func() { *limit = old })
}

// TestHangingChildren covers the two waits that --timeout does not: a
// child that never gets ready, and a writer that does not stop once the
// reader has all its bytes. Both are killed, reaped and blamed.
func TestHangingChildren(t *testing.T) {
	t.Run("not ready", func(t *testing.T) {
		setLimit(t, &readyTimeout, 300*time.Millisecond)
		r := &runner{writer: hangingKid(t, "writer"), reader: hangingKid(t, "reader")}
		r.reader.ready = &ChildReport{}
		err := r.awaitReady(context.Background())
		if want := "writer: was not ready after 300ms"; err == nil || err.Error() != want {
			t.Errorf("awaitReady = %v, want %q", err, want)
		}
		if !r.writer.exited() || !r.reader.exited() {
			t.Errorf("children not reaped: writer %v, reader %v", r.writer.exited(), r.reader.exited())
		}
	})
	t.Run("busy setting up", func(t *testing.T) {
		// A writer that works on its setup (as copy-dram's lays out its
		// source, for minutes under emulation) past the limit is not
		// hung: it gets ready late, and the run goes on.
		setLimit(t, &readyTimeout, 300*time.Millisecond)
		r := &runner{writer: hangingKid(t, "writer", "sh", "-c", "while :; do :; done"), reader: hangingKid(t, "reader")}
		r.reader.ready = &ChildReport{}
		go func() {
			time.Sleep(time.Second)
			r.writer.msgs <- childMsg{Kind: "ready", Report: &ChildReport{}}
		}()
		start := time.Now()
		if err := r.awaitReady(context.Background()); err != nil || time.Since(start) < time.Second {
			t.Errorf("awaitReady = %v after %s, want ready after 1s", err, time.Since(start))
		}
	})
	t.Run("busy, then hung", func(t *testing.T) {
		// The same writer, stuck once it has worked for a while.
		setLimit(t, &readyTimeout, 300*time.Millisecond)
		r := &runner{writer: hangingKid(t, "writer", "sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exec sleep 600"), reader: hangingKid(t, "reader")}
		r.reader.ready = &ChildReport{}
		err := r.awaitReady(context.Background())
		if err == nil || !strings.HasPrefix(err.Error(), "writer: was not ready after ") || !strings.HasSuffix(err.Error(), ", and used no CPU time in the last 300ms") {
			t.Errorf("awaitReady = %v, want the writer not ready, idle for the last 300ms", err)
		}
	})
	t.Run("writer ignores EPIPE", func(t *testing.T) {
		setLimit(t, &stopGrace, 300*time.Millisecond)
		r := &runner{writer: hangingKid(t, "writer"), reader: exitedKid(t, "reader", "exit 0"),
			shared: make([]byte, sharedSize), started: time.Now()}
		err := r.monitor(context.Background())
		if want := "writer: did not stop within 300ms of the reader closing the pipe"; err == nil || err.Error() != want {
			t.Errorf("monitor = %v, want %q", err, want)
		}
		if !r.writer.exited() {
			t.Errorf("writer not reaped")
		}
	})
	noChildren(t)
}

// TestNoFDLeak: whichever way a run ends (success, child failure, stall,
// interrupt, bad options, observer error), Run closes every descriptor it
// opened: pipes, the gate, the status pipes, the memfd.
func TestNoFDLeak(t *testing.T) {
	runOne(t, one("write")) // warm up the runtime's own descriptors (netpoller)
	before := openFDs(t)
	runOne(t, one("splice"))
	t.Setenv(envFault, "reader:exit3")
	Run(context.Background(), one("write"), nil, nil)
	t.Setenv(envFault, "writer:setup")
	Run(context.Background(), one("vmsplice"), nil, nil)
	t.Setenv(envFault, "writer:stall")
	stall := endless("write")
	stall.Timeout = 500 * time.Millisecond
	Run(context.Background(), stall, nil, nil)
	t.Setenv(envFault, "")
	runHurting(t, endless("write"), "writer", syscall.SIGKILL)
	ctx, cancel := context.WithCancel(context.Background())
	Run(ctx, endless("splice"), nil, func(Progress) { cancel() })
	Run(context.Background(), one("write"), &observer{attach: func(int, int) error { return errors.New("boom") }}, nil)
	bad := one("write")
	bad.Bytes = -1
	Run(context.Background(), bad, nil, nil)
	noChildren(t)
	after := openFDs(t)
	if len(after) != len(before) {
		t.Errorf("open descriptors: %d before, %d after the runs\nbefore %v\nafter  %v", len(before), len(after), before, after)
	}
}

// openFDs lists this process's descriptors and what they point at.
func openFDs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, e := range entries {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		list = append(list, e.Name()+"->"+target)
	}
	return list
}

// TestExiting: a process that has exited but is not yet reaped has begun
// to exit (PF_EXITING), one asleep has not; the monitor waits for the
// first (its memory may take long to go) and kills the second.
func TestExiting(t *testing.T) {
	asleep := exec.Command("sleep", "600")
	done := exec.Command("true")
	for _, c := range []*exec.Cmd{asleep, done} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		asleep.Process.Kill()
		asleep.Wait()
		done.Wait()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !exiting(done.Process.Pid) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !exiting(done.Process.Pid) {
		t.Errorf("true, exited and not reaped: not exiting")
	}
	if exiting(asleep.Process.Pid) {
		t.Errorf("sleep 600: exiting")
	}
}
