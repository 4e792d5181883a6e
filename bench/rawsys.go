package bench

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The hot loops call the kernel through syscall.RawSyscall, without the
// runtime's entersyscall/exitsyscall, even for calls that block.
//
// Why: with ordinary calls (unix.Read and friends), a call that blocks
// for more than 20µs lets the runtime's sysmon thread take the P away
// and hand it off, and keeps sysmon polling every 20µs while the
// transfer runs. On a 2-CPU machine with the children pinned, those
// wake-ups land on the CPUs the writer and the reader need: profiles of
// the children showed 25–30% of their samples in sysmon's nanosleep and
// futex wake-ups. With raw calls the P stays with the hot thread, sysmon
// backs off to 10ms, and with asynchronous preemption off
// (GODEBUG=asyncpreemptoff=1 in the child's environment) it sends no
// SIGURG either.
// Every mode got faster for it.
//
// It is safe here because a child runs nothing else that needs the
// thread while a call blocks: GOMAXPROCS is 1, the GC is off, and the
// runner talks to the child through shared memory and signals. Go's
// signal handlers use SA_RESTART, so a signal restarts a blocked call or
// returns EINTR, which the loops handle. It also keeps the hot loop on
// its thread once unlocked from it (see unlocked in child.go): a call
// that passes through the runtime's entersyscall may lose the P to
// another thread, a raw call cannot.

// rawErr turns a raw call's errno into an error (nil for 0), comparable
// with == to unix.EAGAIN and the like.
func rawErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// rawWrite is write(2) on fd.
func rawWrite(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), rawErr(e)
}

// rawRead is read(2) on fd.
func rawRead(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), rawErr(e)
}

// rawVmsplice is vmsplice(2) of iov into the pipe fd.
func rawVmsplice(fd int, iov []unix.Iovec, flags int) (int, error) {
	n, _, e := syscall.RawSyscall6(unix.SYS_VMSPLICE, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)), uintptr(flags), 0, 0)
	return int(n), rawErr(e)
}

// rawPoll is poll(2) of fds without a timeout (ppoll, which every Linux
// architecture has, with no timeout and no signal mask).
func rawPoll(fds []unix.PollFd) (int, error) {
	n, _, e := syscall.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), 0, 0, 0, 0)
	return int(n), rawErr(e)
}

// rawSplice is splice(2) of up to n bytes from in to out, both at their
// current offsets.
func rawSplice(in, out, n, flags int) (int, error) {
	r, _, e := syscall.RawSyscall6(unix.SYS_SPLICE, uintptr(in), 0, uintptr(out), 0, uintptr(n), uintptr(flags))
	return int(r), rawErr(e)
}
