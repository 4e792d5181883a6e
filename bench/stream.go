package bench

// Streaming stores (Options.Streaming). A ring's writer that copies with
// ordinary stores leaves each line of the ring modified in its own cache,
// and the reader's copy must then fetch every line from the other CPU's
// cache; where the two CPUs share no cache level (two chiplets, two
// sockets, or two vCPUs the host placed apart) that cross-CPU transfer,
// not the copies, bounds the ring. Non-temporal stores write the lines to
// memory without keeping them in the writer's cache, and the reader
// fetches them from memory instead. streamCopy is such a copy where the
// architecture has one in assembly here (amd64: MOVNTDQ), and an
// ordinary copy elsewhere.

// streamAlign is the alignment streamStores needs of its destination,
// and the multiple of bytes it stores.
const streamAlign = 64

// streamCopy copies src into dst (len(dst) >= len(src)) with
// non-temporal stores for the 64-byte aligned part of dst, and ordinary
// ones for the ends. The stores are fenced before it returns, so an index
// the caller publishes after it is seen after the bytes.
func streamCopy(dst, src []byte) {
	if len(src) == 0 {
		return
	}
	dst = dst[:len(src)]
	head := int(-addrOf(dst) & (streamAlign - 1))
	if !haveStreamStores || len(src) < head+streamAlign {
		copy(dst, src)
		return
	}
	copy(dst[:head], src)
	body := (len(src) - head) &^ (streamAlign - 1)
	streamStores(&dst[head], &src[head], body)
	copy(dst[head+body:], src[head+body:])
}
