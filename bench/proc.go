package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// kid is one running child as the runner sees it.
type kid struct {
	role   string
	cmd    *exec.Cmd
	msgs   chan childMsg // ready, then result or error; closed at EOF
	done   chan struct{} // closed once the child is reaped
	stderr *headBuffer
	ready  *ChildReport
	result *ChildReport
	errMsg string // the child's own error line, if any

	// Set for an external command only (see external.go).
	command  string
	stdout   *headBuffer // a reader command's stdout
	io       ioCounts    // its process tree's I/O accounting at exit
	ioBase   ioCounts    // the gated child's own, before the command ran
	exitedAt time.Time   // when it exited, before it was reaped
	stopped  bool        // the runner had to stop it
	// afterClose is set when a writer command failed or was killed (by
	// SIGPIPE, say) once its reader had closed the pipe (see
	// runner.writerClosedOut); a clean exit never sets it.
	afterClose bool
}

// startKid re-executes this binary as role with files as fds 3.. and
// status as the write end of its status pipe. A command's child carries
// envRunTag, tag and role (see guard.go).
func startKid(role string, o Options, files []*os.File, tag string) (*kid, error) {
	opts, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encode options: %w", err)
	}
	sr, sw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("status pipe: %w", err)
	}
	defer sw.Close()
	k := &kid{role: role, msgs: make(chan childMsg, 4), done: make(chan struct{}), stderr: &headBuffer{}, command: o.command(role)}
	k.cmd = exec.Command("/proc/self/exe")
	k.cmd.Args = []string{"pipelab-" + role}
	k.cmd.Env = append(withoutVar(os.Environ(), envRunTag), envRole+"="+role, envOptions+"="+string(opts))
	if k.command == "" {
		k.cmd.Env = append(k.cmd.Env, "GODEBUG=asyncpreemptoff=1")
	} else {
		k.cmd.Env = append(k.cmd.Env, envRunTag+"="+tag+"."+role)
		k.cmd.WaitDelay = termGrace // a descendant may keep stderr open
		if role == "reader" {
			k.stdout = &headBuffer{}
			k.cmd.Stdout = k.stdout
		}
	}
	k.cmd.ExtraFiles = []*os.File{files[0], files[1], sw, files[2]}
	k.cmd.Stderr = k.stderr
	// A process group of its own keeps a terminal's Ctrl-C (SIGINT to the
	// foreground group) from killing the child behind the runner's back,
	// which would read as a child failure instead of an interrupt: the
	// runner stops its children itself. Pdeathsig kills the child if the
	// runner dies without doing so.
	k.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := k.cmd.Start(); err != nil {
		sr.Close()
		return nil, fmt.Errorf("start %s: %w", role, err)
	}
	go k.readStatus(sr)
	go func() {
		if k.command != "" {
			k.io = ioAtExit(k.cmd.Process.Pid)
		}
		k.exitedAt = time.Now()
		k.cmd.Wait()
		close(k.done)
	}()
	return k, nil
}

// withoutVar returns env without the variable name.
func withoutVar(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != name {
			out = append(out, kv)
		}
	}
	return out
}

// readStatus forwards the child's status lines until it exits.
func (k *kid) readStatus(r *os.File) {
	defer r.Close()
	defer close(k.msgs)
	s := bufio.NewScanner(r)
	for s.Scan() {
		var m childMsg
		if err := json.Unmarshal(s.Bytes(), &m); err != nil {
			m = childMsg{Kind: "error", Error: "bad status line: " + s.Text()}
		}
		k.msgs <- m
	}
}

// take records a status message.
func (k *kid) take(m childMsg) {
	switch m.Kind {
	case "ready":
		k.ready = m.Report
	case "result":
		k.result = m.Report
	case "error":
		k.errMsg = m.Error
	}
}

// drain records every status message left once the child has exited.
func (k *kid) drain() {
	for m := range k.msgs {
		k.take(m)
	}
}

// exited reports whether the child has been reaped.
func (k *kid) exited() bool {
	select {
	case <-k.done:
		return true
	default:
		return false
	}
}

// failed reports whether the reaped child exited other than with status 0.
func (k *kid) failed() bool {
	return !k.cmd.ProcessState.Success()
}

// kill stops the child if it still runs, and reaps it: SIGKILL for
// pipelab's own, stopCommand for an external command.
func (k *kid) kill() {
	if k.command != "" {
		k.stopCommand()
		return
	}
	if !k.exited() {
		unidleThreads(k.cmd.Process.Pid) // else it may take seconds to die (idle.go)
		k.cmd.Process.Kill()
	}
	<-k.done
}

// childError describes how the reaped child failed.
func (k *kid) childError() *ChildError {
	k.drain()
	e := &ChildError{Role: k.role, Command: k.command, ExitStatus: -1, Message: k.errMsg}
	ws, ok := k.cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ok && ws.Signaled():
		e.Signal = ws.Signal()
	default:
		e.ExitStatus = k.cmd.ProcessState.ExitCode()
		if e.Message == "" {
			e.Message = k.stderr.firstLine()
		}
	}
	return e
}

// headBuffer keeps the first 4KiB a child writes to stderr.
type headBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (h *headBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if room := 4096 - h.buf.Len(); room > 0 {
		h.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// String returns what was kept.
func (h *headBuffer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.buf.String()
}

func (h *headBuffer) firstLine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, line := range strings.Split(h.buf.String(), "\n") {
		if s := strings.TrimSpace(line); s != "" {
			return s
		}
	}
	return ""
}

// waitingOnPipe reports whether the child's hot thread sits in a pipe
// syscall (read, write, vmsplice, splice, poll), or a futex wait on a
// ring (ring.go), per
// /proc/PID/task/TID/syscall: it waits for the other side. A stopped
// thread (SIGSTOP, a debugger) does not wait, even though its syscall file
// still names the call it was stopped in.
func waitingOnPipe(pid, tid int) bool {
	task := "/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(tid)
	if stopped(task) {
		return false
	}
	b, err := os.ReadFile(task + "/syscall")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return false
	}
	nr, err := strconv.Atoi(f[0])
	if err != nil {
		return false
	}
	switch nr {
	case unix.SYS_READ, unix.SYS_WRITE, unix.SYS_SPLICE, unix.SYS_VMSPLICE, unix.SYS_PPOLL, unix.SYS_FUTEX:
		return true
	}
	return false
}

// stopped reports whether the task's state in task/stat is T (stopped) or
// t (tracing stop).
func stopped(task string) bool {
	b, err := os.ReadFile(task + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...; comm may hold spaces and parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && (f[0] == "T" || f[0] == "t")
}
