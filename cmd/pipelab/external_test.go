package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	pprof "github.com/google/pprof/profile"

	"github.com/pipelab/pipelab/internal/testenv"
	"github.com/pipelab/pipelab/profile"
	"github.com/pipelab/pipelab/result"
)

func TestRunWriterCommand(t *testing.T) {
	stdout, stderr, code := pipelab(t, t.TempDir(), "run", "--writer-cmd", "head -c 16777216 /dev/zero", "--bytes", "1GiB", "--repeat", "1", "--json")
	if code != 0 {
		t.Fatalf("exit status %d, stderr %s", code, stderr)
	}
	var s result.Step
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("decode %q: %v", stdout, err)
	}
	if s.Mode != "head" || s.Strategy != "write" || s.Bytes != 16<<20 || len(s.Runs) != 1 || s.WriterCmd != "head -c 16777216 /dev/zero" {
		t.Errorf("got mode %q strategy %q bytes %d runs %v writer %q, want head, write, 16MiB, one run, the command", s.Mode, s.Strategy, s.Bytes, s.Runs, s.WriterCmd)
	}
	if len(s.Commands) != 1 || s.Commands[0].Status != "exited with status 0" || s.Commands[0].WrittenBytes != 16<<20 {
		t.Errorf("got commands %+v, want the writer exited with status 0 having written 16MiB", s.Commands)
	}
	if !strings.Contains(stderr, `pipelab: head: writer command "head -c 16777216 /dev/zero" (pid `) {
		t.Errorf("stderr %q does not say how the writer command ended", stderr)
	}
}

// TestRunCommandFails: a command that fails, or moves too little to
// time, is told once, in the one line of the error, with nothing on
// stdout (no table of runs that did not finish) and exit status 1.
func TestRunCommandFails(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--name", "three", "--reader-cmd", "exit 3", "--bytes", "16MiB"},
			`pipelab: run three: run 1 of 1: reader command "exit 3": exited with status 3`},
		{[]string{"--writer-cmd", "echo oops >&2; exit 3"},
			`pipelab: run echo: run 1 of 1: writer command "echo oops >&2; exit 3": exited with status 3: oops`},
		{[]string{"--writer-cmd", "true"},
			`pipelab: run true: run 1 of 1: writer command "true" exited with status 0 having written nothing into the pipe: nothing to time`},
		{[]string{"--writer-cmd", "echo hi"},
			`pipelab: run echo: run 1 of 1: writer command "echo hi" exited with status 0 having written 3 bytes into the pipe of the 10GiB asked (--bytes), no more than the pipe holds (64KiB): too little to time`},
		{[]string{"--reader-cmd", "exec 0<&-; sleep 0.2", "--bytes", "64MiB"},
			`pipelab: run exec: run 1 of 1: reader command "exec 0<&-; sleep 0.2" exited with status 0 having taken at most 64KiB of the 64MiB asked (--bytes), no more than the pipe holds (64KiB), so no byte is known to have crossed: nothing to time`},
	} {
		stdout, stderr, code := pipelab(t, t.TempDir(), append([]string{"run", "--repeat", "1"}, tc.args...)...)
		if code != 1 || stderr != tc.want+"\n" || stdout != "" {
			t.Errorf("pipelab run %q: got status %d, stdout %q, stderr\n%s\nwant 1, nothing on stdout and the one line\n%s", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

func TestCommandName(t *testing.T) {
	for _, tc := range []struct{ cmd, want string }{
		{"head -c 1G /dev/zero", "head"},
		{"/usr/bin/dd if=/dev/zero bs=1M", "dd"},
		{"LC_ALL=C ./fizz buzz", "fizz"},
		{"'¿?'", "cmd"},
		{"./fizz.buzz.sh", "fizz"},
		{"python3.11 x.py", "python3"},
	} {
		if got := commandName(tc.cmd); got != tc.want {
			t.Errorf("commandName(%q): got %q, want %q", tc.cmd, got, tc.want)
		}
	}
}

// profileCommand runs pipelab profile with args into a new folder and
// returns the folder.
func profileCommand(t *testing.T, args ...string) string {
	t.Helper()
	mustHavePerfEvents(t)
	dir := t.TempDir()
	args = append([]string{"profile", "--out", dir, "--repeat", "1"}, args...)
	_, stderr, code := pipelab(t, dir, args...)
	if code != 0 {
		t.Fatalf("pipelab %s: exit status %d, stderr:\n%s", strings.Join(args, " "), code, stderr)
	}
	return dir
}

// hasFrame reports whether any sample of p with label comm=comm ("" for
// any) has a frame named fn.
func hasFrame(p *pprof.Profile, comm, fn string) bool {
	for _, s := range p.Sample {
		if comm != "" && (len(s.Label["comm"]) == 0 || s.Label["comm"][0] != comm) {
			continue
		}
		for _, l := range s.Location {
			for _, ln := range l.Line {
				if ln.Function.Name == fn {
					return true
				}
			}
		}
	}
	return false
}

// checkLabels fails unless every sample but [lost] carries role, pid,
// tid, comm and cpu.
func checkLabels(t *testing.T, p *pprof.Profile) {
	t.Helper()
	for _, s := range p.Sample {
		if len(s.Label["pid"]) == 0 {
			continue // the [lost] sample
		}
		for _, k := range []string{"role", "tid", "comm", "cpu"} {
			if len(s.Label[k]) != 1 {
				t.Fatalf("a sample has labels %v, want one %s", s.Label, k)
			}
		}
	}
}

func TestProfileWriterCommand(t *testing.T) {
	// head reads /dev/zero in small blocks: a few percent of its time, so
	// sample often. /dev/zero's read is read_zero, or read_iter_zero for
	// readv and on kernels before 5.10's split.
	dir := profileCommand(t, "--writer-cmd", "head -c 268435456 /dev/zero", "--bytes", "256MiB", "--mode", "splice", "--freq", "4999")
	p := readProfile(t, filepath.Join(dir, "head.writer.pb.gz"))
	checkLabels(t, p)
	if !hasFrame(p, "head", "read_zero") && !hasFrame(p, "head", "read_iter_zero") || !hasFrame(p, "head", "anon_pipe_write") {
		t.Errorf("no sample of comm head holds read_zero or read_iter_zero, or none anon_pipe_write:\n%s", p)
	}
	if _, err := os.Stat(filepath.Join(dir, "head.json")); err != nil {
		t.Errorf("no head.json: %v", err)
	}
}

// TestProfileWriterCommandUserFrames profiles a small C program that
// vmsplices its buffer into stdout, compiled here: its own function is a
// user frame of the writer's profile, above the kernel's vmsplice.
func TestProfileWriterCommandUserFrames(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skipf("no gcc to build the vmsplice writer: %v", err)
	}
	src := filepath.Join(t.TempDir(), "vmsplicer.c")
	bin := strings.TrimSuffix(src, ".c")
	code := `#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
static char buf[1 << 17] __attribute__((aligned(4096)));
/* libc's vmsplice keeps no frame pointer, so a frame-pointer unwind skips
   its caller: splice_half. vmsplice_loop is the frame that shows. */
__attribute__((noinline)) static int splice_half(struct iovec *v) {
	ssize_t n = vmsplice(1, v, 1, 0);
	if (n < 0) return -1;
	v->iov_base = (char *)v->iov_base + n;
	v->iov_len -= n;
	return 0;
}
__attribute__((noinline)) static void vmsplice_loop(void) {
	for (int i = 0;; i ^= 1) {
		struct iovec v = {buf + i * sizeof buf / 2, sizeof buf / 2};
		while (v.iov_len > 0)
			if (splice_half(&v) < 0) return;
	}
}
int main(void) { memset(buf, 'x', sizeof buf); vmsplice_loop(); return 0; }
`
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-O2", "-g", "-fno-omit-frame-pointer", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	dir := profileCommand(t, "--writer-cmd", bin, "--mode", "splice", "--pipe-size", "64KiB", "--bytes", "256MiB", "--freq", "4999")
	p := readProfile(t, filepath.Join(dir, "vmsplicer.writer.pb.gz"))
	checkLabels(t, p)
	if !hasFrame(p, "vmsplicer", "vmsplice_loop") || !hasFrame(p, "vmsplicer", "__do_sys_vmsplice") {
		t.Errorf("no sample of comm vmsplicer holds both vmsplice_loop and __do_sys_vmsplice:\n%s", p)
	}
}

func TestProfileReaderCommand(t *testing.T) {
	dir := profileCommand(t, "--reader-cmd", "cat >/dev/null", "--bytes", "64MiB", "--name", "catr")
	p := readProfile(t, filepath.Join(dir, "catr.reader.pb.gz"))
	checkLabels(t, p)
	if !hasFrame(p, "cat", "anon_pipe_read") {
		t.Errorf("no sample of comm cat holds anon_pipe_read:\n%s", p)
	}
}

// TestProfileForkingCommand profiles a writer command that forks a
// pipeline: both of its cat processes have samples in the writer role.
func TestProfileForkingCommand(t *testing.T) {
	dir := profileCommand(t, "--writer-cmd", "cat /dev/zero | cat", "--bytes", "128MiB")
	p := readProfile(t, filepath.Join(dir, "cat.writer.pb.gz"))
	checkLabels(t, p)
	pids := map[string]bool{}
	for _, s := range p.Sample {
		if c := s.Label["comm"]; len(c) == 1 && c[0] == "cat" && s.Label["role"][0] == "writer" {
			pids[s.Label["pid"][0]] = true
		}
	}
	if len(pids) < 2 {
		t.Errorf("got samples of cat from pids %v in the writer role, want two processes", pids)
	}
}

// startPipe starts writer | reader as two processes of this test and
// returns their pids; they are killed and reaped at the end of the test.
func startPipe(t *testing.T, writer, reader string) (int, int) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	wc := exec.Command("/bin/sh", "-c", "exec "+writer)
	wc.Stdout = w
	rc := exec.Command("/bin/sh", "-c", "exec "+reader)
	rc.Stdin = r
	if err := wc.Start(); err != nil {
		t.Fatal(err)
	}
	if err := rc.Start(); err != nil {
		wc.Process.Kill()
		wc.Wait()
		t.Fatal(err)
	}
	w.Close()
	r.Close()
	t.Cleanup(func() {
		wc.Process.Kill()
		rc.Process.Kill()
		wc.Wait()
		rc.Wait()
	})
	time.Sleep(100 * time.Millisecond) // both exec'd
	return wc.Process.Pid, rc.Process.Pid
}

func TestProfileAttach(t *testing.T) {
	mustHavePerfEvents(t)
	w, r := startPipe(t, "cat /dev/zero", "cat")
	dir := t.TempDir()
	_, stderr, code := pipelab(t, dir, "profile", "--attach", fmt.Sprintf("%d,%d", w, r), "--duration", "1s", "--out", dir, "--name", "cats")
	if code != 0 {
		t.Fatalf("exit status %d, stderr:\n%s", code, stderr)
	}
	for role, fn := range map[string]string{"writer": "anon_pipe_write", "reader": "anon_pipe_read"} {
		p := readProfile(t, filepath.Join(dir, "cats."+role+".pb.gz"))
		checkLabels(t, p)
		if !hasFrame(p, "cat", fn) {
			t.Errorf("%s profile: no sample of comm cat holds %s", role, fn)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "cats.json"))
	if err != nil {
		t.Fatal(err)
	}
	var steps []result.Step
	if err := json.Unmarshal(b, &steps); err != nil {
		var s result.Step
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("decode cats.json: %v", err)
		}
		steps = []result.Step{s}
	}
	if s := steps[0]; s.Bytes <= 0 || s.MedianGiBs <= 0 || len(s.Roles) != 2 || s.Roles[0].PIDs[0] != w {
		t.Errorf("got bytes %d at %.2f GiB/s, roles %+v; want bytes counted and the writer pid %d", s.Bytes, s.MedianGiBs, s.Roles, w)
	}
}

// TestProfileAttachExit watches a writer that exits during the window,
// which ends the window with a note.
func TestProfileAttachExit(t *testing.T) {
	mustHavePerfEvents(t)
	w, r := startPipe(t, "head -c 2000000000 /dev/zero", "cat")
	dir := t.TempDir()
	start := time.Now()
	_, stderr, code := pipelab(t, dir, "profile", "--attach", fmt.Sprintf("%d,%d", w, r), "--duration", "60s", "--out", dir)
	if code != 0 {
		t.Fatalf("exit status %d, stderr:\n%s", code, stderr)
	}
	if d := time.Since(start); d > 50*time.Second {
		t.Errorf("took %v, want the window to end when head exits", d)
	}
	b, err := os.ReadFile(filepath.Join(dir, "head.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "window, which ended there"; !strings.Contains(string(b), want) || !strings.Contains(string(b), fmt.Sprintf("pid %d", w)) && !strings.Contains(string(b), fmt.Sprintf("pid %d", r)) {
		t.Errorf("head.json lacks %q:\n%s\nstderr: %s", want, b, stderr)
	}
}

// TestProfileAttachRefused attaches, as an unprivileged user, to two
// processes of root's: pipelab must refuse up front, naming the role, the
// pid and the settings that stand in the way, exit 2 and write nothing.
func TestProfileAttachRefused(t *testing.T) {
	mustHavePerfEvents(t)
	w, r := startPipe(t, "head -c 2000000000 /dev/zero", "cat")
	dir, out, err := asNobody(t, "profile", "--attach", fmt.Sprintf("%d,%d", w, r), "--duration", "1s", "--out", "out")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("got %v, want exit status 2\n%s", err, out)
	}
	want := fmt.Sprintf("pipelab: --attach %d,%d: writer %d cannot be profiled: perf_event_open task-clock pid %d: perf_event_open: permission denied (kernel.perf_event_paranoid=", w, r, w, w)
	if !strings.HasPrefix(string(out), want) || !strings.Contains(string(out), "kernel.yama.ptrace_scope") {
		t.Errorf("got %q, want a line starting %q that names kernel.yama.ptrace_scope", out, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
		t.Errorf("out was created (%v), want nothing written", err)
	}
}

// TestProfileCommandMainProgram profiles dd, a dynamically linked
// program, on either side: the role's profile, and the run's combined
// one, list dd's mapping first, so `go tool pprof` says "File: dd", not
// the dynamic loader's name.
func TestProfileCommandMainProgram(t *testing.T) {
	path, err := exec.LookPath("dd")
	if err != nil {
		t.Skipf("no dd: %v", err)
	}
	dd, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ role, flag, cmd string }{
		{"writer", "--writer-cmd", "dd if=/dev/zero bs=256k status=none"},
		{"reader", "--reader-cmd", "dd of=/dev/null bs=256k status=none"},
	} {
		dir := profileCommand(t, tc.flag, tc.cmd, "--bytes", "64MiB", "--freq", "4999")
		for _, name := range []string{"dd." + tc.role + ".pb.gz", "dd.pb.gz"} {
			file := filepath.Join(dir, name)
			if p := readProfile(t, file); len(p.Mapping) == 0 || p.Mapping[0].File != dd {
				t.Errorf("%s %s: got mappings %v, want %s first", tc.role, name, p.Mapping, dd)
			}
			gotool, err := exec.LookPath("go")
			if err != nil {
				continue
			}
			out, err := exec.Command(gotool, "tool", "pprof", "-top", file).CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), "File: dd\n") {
				t.Errorf("go tool pprof -top %s: %v, got\n%.200s\nwant it to start with File: dd", name, err, out)
			}
		}
	}
}

// TestProfileForkingCommandWall profiles, in the wall view, a writer
// command that forks a pipeline: the writer's wall profile holds the
// sleeps of the shell (waiting for its children) and of both cat
// processes (waiting on their pipes), each with its pid, tid and comm.
func TestProfileForkingCommandWall(t *testing.T) {
	testenv.Require(t, profile.ProbeContextSwitches(), "context-switch events")
	// Pinned, each ring holds a thread's records in order; unpinned, a
	// process that moves leaves them in two rings.
	for _, pin := range []string{"0,1", "none"} {
		t.Run("pin "+pin, func(t *testing.T) {
			dir := profileCommand(t, "--view", "wall", "--pin", pin, "--writer-cmd", "cat /dev/zero | cat", "--bytes", "128MiB")
			wall := readProfile(t, filepath.Join(dir, "cat.writer.wall.pb.gz"))
			checkForkedSleeps(t, wall)
			if profile.ProbeWakeups() == nil {
				checkForkedWakers(t, wall, readProfile(t, filepath.Join(dir, "cat.writer.wakers.pb.gz")))
			}
		})
	}
}

// checkForkedWakers wants the wake-ups of the forked cats recorded: both
// cats' sleeps carry wake-up latency in the wall profile, and the
// writer's wakers profile has most of the sleep ended by a role, the
// reader from its read path (the outer cat's pipe writes) and the cats
// each other through the inner pipe.
func checkForkedWakers(t *testing.T, wall, wakers *pprof.Profile) {
	t.Helper()
	wake := sampleIndex(t, wall, "wakeup")
	latency := map[string]int64{} // cat pid -> wake-up nanoseconds
	for _, s := range wall.Sample {
		if len(s.Label["comm"]) == 1 && s.Label["comm"][0] == "cat" && len(s.Label["pid"]) == 1 {
			latency[s.Label["pid"][0]] += 0
		}
	}
	for _, s := range wall.Sample { // a cat's samples before its exec say sh
		if pid := s.Label["pid"]; len(pid) == 1 {
			if _, ok := latency[pid[0]]; ok {
				latency[pid[0]] += s.Value[wake]
			}
		}
	}
	cats := 0
	for _, ns := range latency {
		if ns > 0 {
			cats++
		}
	}
	if cats < 2 {
		t.Errorf("wake-up nanoseconds by cat pid %v, want two cats with some", latency)
	}
	sleep := sampleIndex(t, wakers, "sleep")
	byWaker := map[string]int64{}
	var all int64
	from := map[string]bool{} // waker role + function in its stack
	for _, s := range wakers.Sample {
		w := ""
		if len(s.Label["waker"]) == 1 {
			w = s.Label["waker"][0]
		}
		byWaker[w] += s.Value[sleep]
		all += s.Value[sleep]
		for _, l := range s.Location {
			for _, ln := range l.Line {
				from[w+" "+ln.Function.Name] = true
			}
		}
	}
	if roles := byWaker["writer"] + byWaker["reader"]; roles < all*9/10 {
		t.Errorf("sleep by waker %v: the roles ended %d of %d ns, want 90%%", byWaker, roles, all)
	}
	if !from["reader anon_pipe_read"] {
		t.Errorf("no sleep of the writer command ended by the reader's anon_pipe_read")
	}
	if !from["writer anon_pipe_write"] && !from["writer anon_pipe_read"] {
		t.Errorf("no sleep of a cat ended by the other cat's pipe read or write")
	}
}

// sampleIndex is the index of the sample type typ in p.
func sampleIndex(t *testing.T, p *pprof.Profile, typ string) int {
	t.Helper()
	for i, st := range p.SampleType {
		if st.Type == typ {
			return i
		}
	}
	t.Fatalf("no %s sample type in %v", typ, p.SampleType)
	return -1
}

// checkForkedSleeps wants the sleeps of the shell and of both cats in
// the wall profile p.
func checkForkedSleeps(t *testing.T, p *pprof.Profile) {
	t.Helper()
	off := -1
	for i, st := range p.SampleType {
		if st.Type == "offcpu" {
			off = i
		}
	}
	if off < 0 {
		t.Fatalf("no offcpu sample type in %v", p.SampleType)
	}
	sleepers := map[string]map[string]bool{} // comm -> pids with off-CPU time
	for _, s := range p.Sample {
		if s.Value[off] == 0 || len(s.Label["pid"]) != 1 || len(s.Label["tid"]) != 1 || len(s.Label["comm"]) != 1 {
			continue
		}
		c := s.Label["comm"][0]
		if sleepers[c] == nil {
			sleepers[c] = map[string]bool{}
		}
		sleepers[c][s.Label["pid"][0]] = true
	}
	if len(sleepers["cat"]) < 2 || len(sleepers["sh"]) < 1 && len(sleepers["dash"]) < 1 {
		t.Errorf("got off-CPU time from processes %v (by comm), want two cats and the shell", sleepers)
	}
	if !hasFrame(p, "sh", "do_wait") && !hasFrame(p, "dash", "do_wait") {
		t.Errorf("the shell's wait for its pipeline (do_wait) is not in the writer's wall profile")
	}
	if !hasFrame(p, "cat", "anon_pipe_read") || !hasFrame(p, "cat", "anon_pipe_write") {
		t.Errorf("the cats' sleeps in anon_pipe_read and anon_pipe_write are not both in the writer's wall profile")
	}
}

// TestKilledLeavesNothing kills pipelab with SIGKILL while its writer
// command's shell waits for a sleep it forked: no process of the run may
// stay alive (the parent-death signal reaches only pipelab's own child,
// the shell; the guard kills the rest). Orphans come back to this test
// process, a subreaper, so a survivor is seen.
func TestKilledLeavesNothing(t *testing.T) {
	becomeSubreaper(t)
	cmd := pipelabCmd(t, "", "run", "--writer-cmd", "sleep 1000; echo", "--repeat", "1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sleeping := false
	for deadline := time.Now().Add(10 * time.Second); !sleeping && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, pid := range testenv.Descendants(cmd.Process.Pid) {
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); string(comm) == "sleep\n" {
				sleeping = true
			}
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !sleeping {
		t.Fatal("the writer command's sleep never ran")
	}
	if left := testenv.ReapOrphans(5 * time.Second); len(left) > 0 {
		t.Errorf("processes left running after pipelab was killed: %v", left)
	}
}

// TestSharedWarning: a run while another pipelab runs transfers on the
// same CPUs says so on stderr, naming the other by pid and command line,
// and saves it in the step (shared_cpus).
func TestSharedWarning(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	other := exec.Command(exe, "run", "--mode", "write", "--bytes", "1TiB", "--repeat", "1")
	other.Env = append(os.Environ(), "PIPELAB_TEST_MAIN=1")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		other.Process.Signal(syscall.SIGINT)
		other.Wait()
	}()
	beacon := fmt.Sprintf("@pipelab-run/%d/", other.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile("/proc/net/unix"); strings.Contains(string(b), beacon) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no beacon %s in /proc/net/unix after 10s", beacon)
		}
	}
	cmd := exec.Command(exe, "run", "--mode", "write", "--bytes", "64MiB", "--repeat", "1", "--json")
	cmd.Env = append(os.Environ(), "PIPELAB_TEST_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pipelab run: %v; stderr:\n%s", err, stderr.String())
	}
	want := fmt.Sprintf("pipelab: write: warning: another pipelab (pid %d: %s run --mode write --bytes 1TiB --repeat 1) ran transfers on CPUs 0,1 at the same time: both measured less than the machine gives one run alone (run one at a time)\n",
		other.Process.Pid, exe)
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks the line\n%s\ngot:\n%s", want, stderr.String())
	}
	if withoutShared(stderr.String()) == stderr.String() {
		t.Errorf("the tests' filter of this warning does not match it:\n%s", stderr.String())
	}
	var s result.Step
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("decode %q: %v", stdout.String(), err)
	}
	if !slices.ContainsFunc(s.Shared, func(r result.SharedRun) bool { return r.PID == other.Process.Pid && slices.Equal(r.CPUs, []int{0, 1}) }) {
		t.Errorf("saved shared_cpus %+v, want pid %d on CPUs 0,1", s.Shared, other.Process.Pid)
	}
}

// TestUnknownThroughput: a run whose throughput nobody knows prints no
// number: its JSON holds [] runs and null figures, not 0, and the text
// output no table. Two commands whose I/O accounting disagrees (the
// writer's pipeline writes everything twice) give such a run; so does a
// command that failed.
func TestUnknownThroughput(t *testing.T) {
	const null = `"runs":[],"median_gib_s":null,"min_gib_s":null,"max_gib_s":null`
	both := []string{"--writer-cmd", "head -c 16777216 /dev/zero | cat", "--reader-cmd", "cat >/dev/null"}
	stdout, stderr, code := pipelab(t, t.TempDir(), append([]string{"run", "--repeat", "1", "--json"}, both...)...)
	if code != 0 || !strings.Contains(stdout, null) || !strings.Contains(stderr, "so no throughput is given") {
		t.Errorf("both commands, accounting disagrees: status %d, stdout %s, stderr %s; want 0, null figures and the warning", code, stdout, stderr)
	}
	stdout, _, code = pipelab(t, t.TempDir(), append([]string{"run", "--repeat", "1"}, both...)...)
	if code != 0 || stdout != "" {
		t.Errorf("both commands, text: status %d, stdout %q; want 0 and no table", code, stdout)
	}
	stdout, _, code = pipelab(t, t.TempDir(), "run", "--repeat", "1", "--json", "--writer-cmd", "exit 3")
	if code != 1 || !strings.Contains(stdout, null) || !strings.Contains(stdout, `"incomplete":true`) {
		t.Errorf("failed command: status %d, stdout %s; want 1, null figures, incomplete", code, stdout)
	}
}
