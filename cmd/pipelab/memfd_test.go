package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// envNoMemfd makes TestMain refuse memfd_create(2) to the whole process
// (refuseMemfd) before it runs pipelab: the sandbox some users run in.
const envNoMemfd = "PIPELAB_TEST_NO_MEMFD"

// refuseMemfd installs a seccomp filter on every thread of the process
// (SECCOMP_FILTER_FLAG_TSYNC) that fails memfd_create(2) with ENOSYS and
// allows every other system call. The children inherit it.
func refuseMemfd() error {
	const (
		seccompSetModeFilter = 1 // SECCOMP_SET_MODE_FILTER, <linux/seccomp.h>
		seccompFlagTsync     = 1 // SECCOMP_FILTER_FLAG_TSYNC
		retErrno             = 0x00050000
		retAllow             = 0x7fff0000
	)
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_MEMFD_CREATE},
		{Code: unix.BPF_RET | unix.BPF_K, K: retErrno | uint32(unix.ENOSYS)},
		{Code: unix.BPF_RET | unix.BPF_K, K: retAllow},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_NO_NEW_PRIVS: %w", err)
	}
	if _, _, e := syscall.Syscall(unix.SYS_SECCOMP, seccompSetModeFilter, seccompFlagTsync, uintptr(unsafe.Pointer(&prog))); e != 0 {
		return fmt.Errorf("seccomp SECCOMP_SET_MODE_FILTER: %w", e)
	}
	return nil
}

// TestMemfdUnavailable: where a sandbox refuses memfd_create(2), which
// every mode needs (the children's progress counters, the ring's and the
// copy modes' shared memory), pipelab says so in one line, names the
// errno and what it needs, starts no child, and exits 1 (no bad input:
// the machine refused).
func TestMemfdUnavailable(t *testing.T) {
	for _, mode := range []string{"ring", "copy", "write"} {
		t.Run(mode, func(t *testing.T) {
			t.Setenv(envNoMemfd, "1")
			stdout, stderr, code := pipelab(t, t.TempDir(), "run", "--mode", mode, "--bytes", "1MiB", "--repeat", "1")
			if code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			name := "pipelab-" + mode
			if mode == "write" {
				name = "pipelab-progress"
			}
			want := "pipelab: run --mode " + mode + ": run 1 of 1: memfd_create " + name + ": function not implemented (pipelab needs memfd_create(2), Linux 3.17 or later, for the children's progress counters and the ring and copy modes; a seccomp filter or a sandbox may refuse it)\n"
			if stderr != want {
				t.Errorf("stderr:\n got %q\nwant %q", stderr, want)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

// noMemfdMain is TestMain's part for envNoMemfd.
func noMemfdMain() {
	if os.Getenv(envNoMemfd) == "" || os.Getenv("PIPELAB_TEST_MAIN") != "1" {
		return
	}
	if err := refuseMemfd(); err != nil {
		fmt.Fprintln(os.Stderr, "test setup: "+strings.TrimSpace(err.Error()))
		os.Exit(3)
	}
}
