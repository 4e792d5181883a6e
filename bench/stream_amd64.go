package bench

// haveStreamStores is true where streamStores uses non-temporal stores.
const haveStreamStores = true

// streamStores copies n bytes, a multiple of 64, from src to dst, which
// is 64-byte aligned, with non-temporal stores (MOVNTDQ, SSE2, which
// every amd64 CPU has), then fences them (SFENCE).
//
//go:noescape
func streamStores(dst, src *byte, n int)
