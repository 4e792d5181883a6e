package bench

import (
	"sync/atomic"
	"unsafe"
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
