package bench

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The hot loops' syscalls. Each returns the raw errno instead of an error
// value, and takes raw: with raw set the call goes through RawSyscall6,
// which skips the runtime's entersyscall/exitsyscall bookkeeping. That is
// only safe for a call that cannot block (SPLICE_F_NONBLOCK, O_NONBLOCK):
// a blocked raw call holds its P, so the runtime cannot hand it to another
// thread. Calls that may block go through Syscall6.
//
// Pointers are converted to uintptr in the argument list of the
// assembly-implemented unix.Syscall6 and unix.RawSyscall6 themselves, the
// form the compiler keeps alive across the call.

// sysWrite is write(2) of b to fd.
func sysWrite(raw bool, fd int, b []byte) (int, unix.Errno) {
	p := unsafe.Pointer(unsafe.SliceData(b))
	var r uintptr
	var e unix.Errno
	if raw {
		r, _, e = unix.RawSyscall6(unix.SYS_WRITE, uintptr(fd), uintptr(p), uintptr(len(b)), 0, 0, 0)
	} else {
		r, _, e = unix.Syscall6(unix.SYS_WRITE, uintptr(fd), uintptr(p), uintptr(len(b)), 0, 0, 0)
	}
	return int(r), e
}

// sysRead is read(2) from fd into b.
func sysRead(raw bool, fd int, b []byte) (int, unix.Errno) {
	p := unsafe.Pointer(unsafe.SliceData(b))
	var r uintptr
	var e unix.Errno
	if raw {
		r, _, e = unix.RawSyscall6(unix.SYS_READ, uintptr(fd), uintptr(p), uintptr(len(b)), 0, 0, 0)
	} else {
		r, _, e = unix.Syscall6(unix.SYS_READ, uintptr(fd), uintptr(p), uintptr(len(b)), 0, 0, 0)
	}
	return int(r), e
}

// sysVmsplice is vmsplice(2) of the one iovec iov into the pipe fd.
func sysVmsplice(raw bool, fd int, iov *unix.Iovec, flags int) (int, unix.Errno) {
	var r uintptr
	var e unix.Errno
	if raw {
		r, _, e = unix.RawSyscall6(unix.SYS_VMSPLICE, uintptr(fd), uintptr(unsafe.Pointer(iov)), 1, uintptr(flags), 0, 0)
	} else {
		r, _, e = unix.Syscall6(unix.SYS_VMSPLICE, uintptr(fd), uintptr(unsafe.Pointer(iov)), 1, uintptr(flags), 0, 0)
	}
	return int(r), e
}

// sysSplice is splice(2) of up to n bytes from the pipe in to out, with
// no offsets.
func sysSplice(raw bool, in, out, n, flags int) (int, unix.Errno) {
	var r uintptr
	var e unix.Errno
	if raw {
		r, _, e = unix.RawSyscall6(unix.SYS_SPLICE, uintptr(in), 0, uintptr(out), 0, uintptr(n), uintptr(flags))
	} else {
		r, _, e = unix.Syscall6(unix.SYS_SPLICE, uintptr(in), 0, uintptr(out), 0, uintptr(n), uintptr(flags))
	}
	return int(r), e
}
