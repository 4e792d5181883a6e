package bench

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// idleOtherThreads puts every thread of this process but the calling one
// (the hot loop's, locked to it) under SCHED_IDLE, so that the Go
// runtime's own threads, sysmon above all, which wakes every 10ms, run
// only when the CPU has nothing else to do and never preempt the hot
// loop. The hot loop needs none of them: it makes raw system calls, does
// not allocate and runs with the GC off. Without this, a busy-mode run
// showed each hot thread preempted by its runtime threads about 100
// times a second; with it, busy went from 0.94 to 0.97 of the C build
// in the same minutes (medians of 6 interleaved 4GiB runs).
//
// The price is at exit: a process is gone (and its parent can reap it)
// only once each of its threads has run its own part of exit_group(2),
// and a SCHED_IDLE thread on a CPU kept busy by normal tasks gets a
// slice only now and then (weight 3 against 1024). Under load that made
// a child take seconds to die; unidleThreads undoes this first.
func idleOtherThreads() error {
	me := unix.Gettid()
	tids, err := threads(os.Getpid())
	if err != nil {
		return err
	}
	for _, tid := range tids {
		if tid == me {
			continue
		}
		err := unix.SchedSetAttr(tid, &unix.SchedAttr{Policy: unix.SCHED_IDLE}, 0)
		if err != nil && err != unix.ESRCH { // ESRCH: the thread has exited
			return fmt.Errorf("sched_setattr SCHED_IDLE on runtime thread %d: %w", tid, err)
		}
	}
	return nil
}

// unidleThreads gives every SCHED_IDLE thread of pid (a child of the
// runner, or the calling child itself) SCHED_NORMAL (SCHED_OTHER) at the nice value of
// the calling thread, so that they all run their exit promptly however
// busy the CPUs are. Best effort: a thread may exit meanwhile, and a
// failure only leaves the thread as it was.
func unidleThreads(pid int) {
	self, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		return
	}
	normal := unix.SchedAttr{Policy: unix.SCHED_NORMAL, Nice: self.Nice}
	if self.Policy != unix.SCHED_NORMAL && self.Policy != unix.SCHED_BATCH {
		normal.Nice = 0
	}
	tids, _ := threads(pid)
	for _, tid := range tids {
		if a, err := unix.SchedGetAttr(tid, 0); err == nil && a.Policy == unix.SCHED_IDLE {
			unix.SchedSetAttr(tid, &normal, 0)
		}
	}
}

// threads lists the thread ids of pid from /proc/PID/task.
func threads(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return nil, fmt.Errorf("list threads: %w", err)
	}
	var tids []int
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}
