//go:build !amd64

package bench

import "unsafe"

// haveStreamStores is false: this architecture has no streamStores in
// assembly here, and streamCopy makes an ordinary copy.
const haveStreamStores = false

// streamStores is an ordinary copy on this architecture.
func streamStores(dst, src *byte, n int) {
	copy(unsafe.Slice(dst, n), unsafe.Slice(src, n))
}
