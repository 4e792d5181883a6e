package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestMain lets the test binary act as writer and reader, and fails the
// run if any test left a child process behind.
func TestMain(m *testing.M) {
	Child()
	if os.Getenv(envHelper) != "" {
		runHelper()
		os.Exit(0)
	}
	code := m.Run()
	if kids := childPIDs(); len(kids) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: tests left child processes running: %v\n", kids)
		code = 1
	}
	os.Exit(code)
}

// childPIDs lists the processes (zombies included) whose parent is this
// one, from /proc/*/stat.
func childPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	var kids []int
	me := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 {
			if ppid, _ := strconv.Atoi(f[1]); ppid == me {
				kids = append(kids, pid)
			}
		}
	}
	return kids
}
