package bench

import (
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// addrOf returns the address of the first byte of b.
func addrOf(b []byte) uintptr {
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

// counterAt returns the 8-byte aligned word at off in a shared mapping as
// an atomic counter.
func counterAt(mem []byte, off int) *atomic.Int64 {
	return (*atomic.Int64)(unsafe.Pointer(&mem[off]))
}

// setThreadName names the calling thread: prctl(PR_SET_NAME), at most 15
// bytes.
func setThreadName(name string) error {
	b := append([]byte(name), 0)
	err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0)
	runtime.KeepAlive(b) // the kernel reads b during the call
	return err
}
