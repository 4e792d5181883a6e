// Package testenv is what pipelab's tests share about the machine they run
// on: whether a privileged feature (perf events, huge pages, context-switch
// events) is available, and which child processes a test left behind.
//
// A test probes by trying the real operation and hands the error to
// Require, one line at its top. Under PIPELAB_REQUIRE_PERF=1 (set by
// .ci/run) a refusal fails the test instead of skipping it, so a run cannot
// pass by skipping everything. testenv never probes anything itself and is
// imported by tests only.
package testenv

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns Require's skips into
// failures when set to 1.
const RequireEnv = "PIPELAB_REQUIRE_PERF"

// Require returns when err is nil. Otherwise it skips tb, saying that what
// is refused here and why, or fails it when PIPELAB_REQUIRE_PERF=1.
func Require(tb testing.TB, err error, what string) {
	tb.Helper()
	if err == nil {
		return
	}
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatalf("%s refused and %s=1: %v", what, RequireEnv, err)
		return
	}
	tb.Skipf("%s refused: %v", what, err)
}

// Children lists the processes whose parent is pid, zombies included, from
// /proc/*/stat.
func Children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parent(e.Name()); ok && ppid == pid {
			kids = append(kids, p)
		}
	}
	return kids
}

// parent reads the parent pid from /proc/PID/stat: "pid (comm) state ppid
// ...", where comm may hold spaces and parentheses, so the fields are cut
// after the last ')'.
func parent(pid string) (int, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// Descendants lists the processes below pid in the process tree, zombies
// included, children before their own children.
func Descendants(pid int) []int {
	var all []int
	for next := []int{pid}; len(next) > 0; {
		var kids []int
		for _, p := range next {
			kids = append(kids, Children(p)...)
		}
		all = append(all, kids...)
		next = kids
	}
	return all
}

// ReapOrphans is for a test that made itself a subreaper
// (PR_SET_CHILD_SUBREAPER), so that what its children leave running comes
// back to it: it reaps its children as they die, for up to d, and then
// kills, reaps and returns those still alive, each as "PID (command
// line)". Any child counts, so the test must have reaped the ones it
// started itself.
func ReapOrphans(d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		var alive []int
		for _, pid := range Children(os.Getpid()) {
			if state(pid) == "Z" {
				var ws syscall.WaitStatus
				syscall.Wait4(pid, &ws, 0, nil)
			} else {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			var left []string
			for _, pid := range alive {
				b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
				left = append(left, strconv.Itoa(pid)+" ("+strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))+")")
				syscall.Kill(pid, syscall.SIGKILL)
				var ws syscall.WaitStatus
				syscall.Wait4(pid, &ws, 0, nil)
			}
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// state reads the state letter of /proc/PID/stat, or "" when pid is gone.
func state(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
