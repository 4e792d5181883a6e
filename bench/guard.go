package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// What an external command starts must not outlive the run, however
// pipelab ends. Pipelab's own writer and reader die with the runner by
// PR_SET_PDEATHSIG, and a command's child (the /bin/sh that runs it)
// keeps that across execve; but what the shell forks does not have it,
// and PR_SET_PDEATHSIG fires on the death of the parent, not of the
// runner. So for a run with a command:
//
//   - The runner starts a guard first: this binary again, in a process
//     group of its own (a terminal's Ctrl-C does not reach it) and
//     without a parent-death signal, reading a pipe from the runner. It
//     is told the process group of each command. When the pipe reaches
//     EOF without "done", the runner has died (SIGKILL included): the
//     guard kills those groups and exits.
//   - Every command runs with envRunTag in its environment, which what
//     it forks inherits. A process that carries the tag but left the
//     command's process group (setsid, setpgid) escapes the group's
//     SIGKILL; the runner, once the run is over, or the guard, once the
//     runner has died, finds it in /proc, kills it, and names it in a
//     warning. A process that both leaves the group and drops its
//     environment escapes unseen.

// envRunTag names the run a command process belongs to: a tag unique to
// the run, a dot, and the command's role.
const envRunTag = "PIPELAB_RUN"

// guardRole is the envRole value of the guard process.
const guardRole = "guard"

// guard is the runner's end of a guard process.
type guard struct {
	cmd *exec.Cmd
	w   *os.File
}

// newRunTag returns a tag no other run on this machine has.
func newRunTag() string {
	return strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// startGuard starts the guard of the run tagged tag.
func startGuard(tag string) (*guard, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("guard pipe: %w", err)
	}
	defer r.Close()
	g := &guard{w: w}
	g.cmd = exec.Command("/proc/self/exe")
	g.cmd.Args = []string{"pipelab-guard", tag}
	g.cmd.Env = append(os.Environ(), envRole+"="+guardRole)
	g.cmd.ExtraFiles = []*os.File{r}
	g.cmd.Stderr = os.Stderr
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := g.cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start the guard process: %w", err)
	}
	return g, nil
}

// watch tells the guard to kill process group pgid should the runner die.
func (g *guard) watch(pgid int) error {
	if _, err := fmt.Fprintf(g.w, "group %d\n", pgid); err != nil {
		return fmt.Errorf("tell the guard process about group %d: %w", pgid, err)
	}
	return nil
}

// close tells the guard that the run ended in order, and reaps it.
func (g *guard) close() {
	g.w.WriteString("done\n")
	g.w.Close()
	g.cmd.Wait()
}

// runGuard is the guard process: it collects process groups from fd 3
// until "done" (exit) or EOF (the runner died: kill them all, and any
// process of the run that left them).
func runGuard() {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE, syscall.SIGQUIT)
	if len(os.Args) < 2 {
		os.Exit(exitFailed)
	}
	var groups []int
	s := bufio.NewScanner(os.NewFile(3, "guard"))
	for s.Scan() {
		verb, arg, _ := strings.Cut(s.Text(), " ")
		switch verb {
		case "done":
			os.Exit(0)
		case "group":
			if pgid, err := strconv.Atoi(arg); err == nil && pgid > 1 {
				groups = append(groups, pgid)
			}
		}
	}
	for _, pgid := range groups {
		unix.Kill(-pgid, unix.SIGKILL)
	}
	for _, e := range killEscaped(os.Args[1], groups) {
		fmt.Fprintf(os.Stderr, "pipelab: warning: after pipelab was killed, %s\n", e)
	}
	os.Exit(0)
}

// killEscaped kills every process that carries the run's tag outside
// the commands' process groups (which are being killed anyway), and
// returns a description of each, such as "the writer command left
// process 4242 (sleep 1000) running outside its process group: killed
// it".
func killEscaped(tag string, groups []int) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var killed []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		role, ok := taggedRole(pid, tag)
		if !ok || contains(groups, processGroup(pid)) {
			continue
		}
		if what, ok := killTagged(pid, tag); ok {
			killed = append(killed, fmt.Sprintf("the %s command left process %d (%s) running outside its process group: killed it", role, pid, what))
		}
	}
	return killed
}

// taggedRole reads pid's environment and returns the role of its tag if
// it carries tag.
func taggedRole(pid int, tag string) (string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return "", false
	}
	prefix := []byte(envRunTag + "=" + tag + ".")
	for _, kv := range bytes.Split(b, []byte{0}) {
		if role, ok := bytes.CutPrefix(kv, prefix); ok {
			return string(role), true
		}
	}
	return "", false
}

// killTagged sends SIGKILL to pid through a pidfd, after checking again
// that the process the pidfd holds carries the tag (pid may have been
// reused since the scan), and returns its command line.
func killTagged(pid int, tag string) (string, bool) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return "", false
	}
	defer unix.Close(fd)
	if _, ok := taggedRole(pid, tag); !ok {
		return "", false
	}
	what := cmdline(pid)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil {
		return "", false
	}
	return what, true
}

// cmdline is pid's command line as ps shows it, cut to 200 bytes.
func cmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	s := strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	if s == "" {
		return "?"
	}
	return s
}

// processGroup reads the process group of pid from /proc/PID/stat, or
// returns -1.
func processGroup(pid int) int {
	f := procStat(pid)
	if len(f) < 3 {
		return -1
	}
	pgid, err := strconv.Atoi(f[2])
	if err != nil {
		return -1
	}
	return pgid
}

// cpuTicks is the CPU time pid has used, user and system, in clock ticks
// (/proc/PID/stat's utime and stime), or -1.
func cpuTicks(pid int) int64 {
	f := procStat(pid)
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return utime + stime
}

// exiting reports whether pid has begun to exit: PF_EXITING in
// /proc/PID/stat's flags. It is past its work and its exit status, and
// the kernel is taking down its memory, which for a large mapping under
// emulation takes many seconds.
func exiting(pid int) bool {
	const pfExiting = 0x4
	f := procStat(pid)
	if len(f) < 7 {
		return false
	}
	flags, err := strconv.ParseUint(f[6], 10, 64)
	return err == nil && flags&pfExiting != 0
}

// procStat is /proc/PID/stat's fields after the command name, from the
// state on (f[0] is the state, f[1] the ppid, f[2] the process group), or
// nil.
func procStat(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
	return strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
}
