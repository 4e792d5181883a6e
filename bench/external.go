package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pipelab/pipelab/result"
	"golang.org/x/sys/unix"
)

// External commands. Options.WriterCmd and ReaderCmd put a shell command
// line on one side of the pipe, or on both. The command runs in the child
// the runner starts for that role anyway: the child pins itself, reports
// ready, waits on the start gate like a pipelab writer or reader, and only
// then makes its end of the pipe its stdout (writer) or stdin (reader) and
// execs /bin/sh -c CMD. The command therefore keeps the child's pid, and
// an observer that attached at the gate sees its first instruction. What
// the command forks inherits the pinning and the process group, which is
// how the runner stops the whole command (see kid.stop).
//
// Where one side is pipelab's, that side counts the bytes: pipelab's
// reader stops after Options.Bytes (or at EOF, when the writer command
// ends the stream first) and closes its end, so the writer command gets
// SIGPIPE or EPIPE, as under `| head -c`; pipelab's writer writes
// Options.Bytes and closes, so the reader command sees EOF. Where both
// sides are commands, nobody on the pipe counts: the runner reads the
// kernel's I/O accounting of each command's process tree (see ioBytes)
// and trusts it only when both sides agree.

// external is plan.Writer or plan.Reader of a side given as a command.
const external = "external"

// command returns the command line of role, or "" for pipelab's own.
func (o Options) command(role string) string {
	if role == "writer" {
		return o.WriterCmd
	}
	return o.ReaderCmd
}

// checkCommands refuses knobs that belong to a side a command replaces.
func checkCommands(o Options) *OptionError {
	for _, c := range []struct{ field, cmd string }{{"WriterCmd", o.WriterCmd}, {"ReaderCmd", o.ReaderCmd}} {
		if c.cmd != "" && strings.TrimSpace(c.cmd) == "" {
			return &OptionError{on(c.field), "", say("empty command"), say("give a shell command line, e.g. 'head -c 1G /dev/zero'")}
		}
	}
	if o.WriterCmd == "" && o.ReaderCmd == "" {
		return nil
	}
	p := planFor(o)
	both := p.Writer == external && p.Reader == external
	replaced := say(field("WriterCmd"), " replaces pipelab's writer")
	if p.Reader == external && p.Writer != external {
		replaced = say(field("ReaderCmd"), " replaces pipelab's reader")
	}
	if both {
		replaced = say(field("WriterCmd"), " and ", field("ReaderCmd"), " replace both of pipelab's sides")
	}
	switch {
	case o.Verify:
		return &OptionError{on("Verify"), "", say("needs pipelab's own writer and reader (the writer stamps each block, the reader checks it), and ", replaced), say("drop ", field("Verify"))}
	case o.RewriteAfterSplice:
		return &OptionError{on("RewriteAfterSplice"), "", say("is an experiment of pipelab's vmsplice writer, and ", replaced), say("drop it")}
	case o.SameBuffer && p.Writer == external:
		return &OptionError{on("SameBuffer"), "", say("is a knob of pipelab's vmsplice writer, and ", replaced), say("drop it")}
	case o.Gift && p.Writer == external && p.Reader != "splice":
		return &OptionError{on("Gift"), "", say("is SPLICE_F_GIFT of pipelab's vmsplice writer (or SPLICE_F_MOVE of its splice reader), and ", replaced), say("drop it, or use a splice mode for pipelab's reader")}
	case o.Timeout > 0 && both:
		return &OptionError{on("Timeout"), o.Timeout.String(), say("watches the bytes pipelab's own writer or reader moves, and ", replaced), say("drop it")}
	}
	noBuffer := both || p.Writer == external && p.Reader == "splice"
	why := say("applies to pipelab's own side, and ", replaced)
	if !both {
		why = say("applies to the buffer of pipelab's own side, and its splice reader has none (", replaced, ")")
	}
	for _, k := range []struct {
		field string
		set   bool
	}{
		{"Huge", o.Huge && noBuffer}, {"CheckHuge", o.CheckHuge && noBuffer},
		{"LockMemory", o.LockMemory && noBuffer}, {"DontTouchPages", o.DontTouchPages && noBuffer},
		{"BufOffset", o.BufOffset != MallocOffset && noBuffer},
		{"Busy", o.Busy && both}, {"Poll", o.Poll && both},
	} {
		if k.set {
			return &OptionError{on(k.field), "", say(why), say("drop it")}
		}
	}
	return nil
}

// runCommand is the child side of an external command: pin, report
// ready, wait for the gate, then exec /bin/sh -c cmdline with the pipe as
// stdout (writer) or stdin (reader). It returns only on failure.
func (c *child) runCommand(cmdline string) error {
	if err := c.pin(); err != nil {
		return err
	}
	sz, err := unix.FcntlInt(fdPipe, unix.F_GETPIPE_SZ, 0)
	if err != nil {
		return fmt.Errorf("fcntl F_GETPIPE_SZ: %w", err)
	}
	c.rep.PipeSizeBytes = sz
	// An exec from another thread than the main one changes the calling
	// thread's tid to the pid (the kernel's de_thread), and the wall
	// view, which follows the tid it attached to, would name the command
	// after this binary. Child's init keeps the child on its main thread;
	// this holds unless Child was called from another goroutine than
	// main's.
	if c.rep.TID != c.rep.PID {
		return fmt.Errorf("internal error: the %s child runs on thread %d, not on its main thread %d, and an exec from there would hide the command's thread from the profiler; call bench.Child from main or TestMain, before anything else", c.role, c.rep.TID, c.rep.PID)
	}
	send(childMsg{Kind: "ready", Report: &c.rep})
	if err := waitGate(); err != nil {
		return err
	}
	std := 1
	if c.role == "reader" {
		std = 0
	}
	if err := unix.Dup2(fdPipe, std); err != nil {
		return fmt.Errorf("dup2 the pipe onto fd %d: %w", std, err)
	}
	for _, fd := range []int{fdPipe, fdGate, fdStatus, fdShared} {
		unix.CloseOnExec(fd)
	}
	// "--" ends sh's options, so a command line that begins with a dash
	// is run, not taken for one.
	err = unix.Exec("/bin/sh", []string{"sh", "-c", "--", cmdline}, commandEnv())
	return fmt.Errorf("exec /bin/sh -c %q: %w", cmdline, err)
}

// commandEnv is the child's environment without the child protocol's
// variables: what the user's shell had.
func commandEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != envRole && k != envOptions && k != envFault {
			env = append(env, kv)
		}
	}
	return env
}

// termGrace is how long the runner waits for an external command to
// exit after SIGTERM before it sends SIGKILL; a variable so tests can
// shorten it.
var termGrace = 2 * time.Second

// stopCommand stops an external command and reaps it: SIGTERM to its
// process group (the command and whatever it forked), SIGKILL to the
// group termGrace later if the command has not exited by then. Once the
// command has exited, the group gets SIGKILL anyway, so that nothing it
// left running in the background survives the run. A descendant that
// made a process group or session of its own escapes this.
func (k *kid) stopCommand() {
	if !k.exited() {
		k.stopped = true
		k.signalGroup(unix.SIGTERM)
		select {
		case <-k.done:
		case <-time.After(termGrace):
			k.signalGroup(unix.SIGKILL)
			<-k.done
		}
	}
	k.signalGroup(unix.SIGKILL)
}

// signalGroup sends sig to the child's process group (its pid: the child
// starts one with Setpgid).
func (k *kid) signalGroup(sig unix.Signal) {
	unix.Kill(-k.cmd.Process.Pid, sig)
}

// ioCounts are rchar and wchar of /proc/PID/io: bytes passed to the
// read and write families of system calls (read, readv, pread, write,
// writev, pwrite, sendfile, copy_file_range) on any file, by the process
// and by the children it reaped. splice(2) and vmsplice(2) do not count
// (fs/splice.c does not account them; checked on Linux 6.18).
type ioCounts struct {
	ok           bool
	rchar, wchar int64
}

// ioAtExit waits for pid to exit without reaping it (WNOWAIT), so that
// its /proc/PID/io, which then holds the whole tree's figures, can still
// be read, and reads it.
func ioAtExit(pid int) ioCounts {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			if err != nil {
				return ioCounts{}
			}
			break
		}
	}
	return readIO(pid)
}

// readIO reads /proc/PID/io.
func readIO(pid int) ioCounts {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return ioCounts{}
	}
	return parseIO(string(b))
}

// since returns the counts that c has beyond base: what the command did
// once the gate opened. Accounting survives execve, so the gated child's
// own reads and writes (its status line, the Go runtime's start) are in
// both.
func (c ioCounts) since(base ioCounts) ioCounts {
	if !c.ok || !base.ok {
		return ioCounts{}
	}
	return ioCounts{ok: true, rchar: c.rchar - base.rchar, wchar: c.wchar - base.wchar}
}

// parseIO reads rchar and wchar from the text of /proc/PID/io.
func parseIO(s string) ioCounts {
	var c ioCounts
	seen := 0
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "rchar":
			c.rchar, seen = n, seen+1
		case "wchar":
			c.wchar, seen = n, seen+1
		}
	}
	c.ok = seen == 2
	return c
}

// commandWords says in a few words how an external command ended:
// "exited with status 0", "killed by SIGPIPE after the reader closed the
// pipe", "killed by SIGKILL (stopped by pipelab)".
func commandWords(c result.CommandStatus, stopped, afterClose bool) string {
	s := fmt.Sprintf("exited with status %d", c.ExitStatus)
	if c.Signal != "" {
		s = "killed by " + c.Signal
	}
	if stopped {
		s += " (stopped by pipelab)"
	}
	if afterClose {
		s += " after the reader closed the pipe"
	}
	return s
}

// status describes the reaped external command k.
func (k *kid) status() result.CommandStatus {
	c := result.CommandStatus{Role: k.role, Command: k.command, PID: k.cmd.Process.Pid, ExitStatus: -1,
		Stderr: k.stderr.String(), ReadBytes: -1, WrittenBytes: -1}
	if k.stdout != nil {
		c.Stdout = k.stdout.String()
	}
	if ws, ok := k.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		c.Signal = unix.SignalName(ws.Signal())
	} else {
		c.ExitStatus = k.cmd.ProcessState.ExitCode()
	}
	if io := k.io.since(k.ioBase); io.ok {
		c.ReadBytes, c.WrittenBytes = io.rchar, io.wchar
	}
	c.Status = commandWords(c, k.stopped, k.afterClose)
	return c
}

// sigpiped reports whether the reaped child died of SIGPIPE, or exited
// with 128+SIGPIPE, as a shell does whose last command died of it.
func (k *kid) sigpiped() bool {
	ws, ok := k.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return false
	}
	return ws.Signaled() && ws.Signal() == syscall.SIGPIPE || ws.Exited() && ws.ExitStatus() == 128+int(syscall.SIGPIPE)
}
