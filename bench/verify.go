package bench

import "encoding/binary"

// The --verify pattern: the 8 bytes at every stream offset x that is a
// multiple of 8 hold x as a little-endian uint64, so any byte's expected
// value follows from its offset alone.

// patternByte is the expected byte at stream offset x.
func patternByte(x int64) byte {
	return byte(uint64(x&^7) >> (8 * uint(x&7)))
}

// stamp writes the pattern for stream offsets off.. into b.
func stamp(b []byte, off int64) {
	i := 0
	for ; i < len(b) && (off+int64(i))&7 != 0; i++ {
		b[i] = patternByte(off + int64(i))
	}
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], uint64(off+int64(i)))
	}
	for ; i < len(b); i++ {
		b[i] = patternByte(off + int64(i))
	}
}

// firstCorrupt returns the stream offset of the first byte of b (which
// starts at stream offset off) that breaks the pattern, or -1.
func firstCorrupt(b []byte, off int64) int64 {
	i := 0
	for ; i < len(b) && (off+int64(i))&7 != 0; i++ {
		if b[i] != patternByte(off+int64(i)) {
			return off + int64(i)
		}
	}
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:]) != uint64(off+int64(i)) {
			break // find the exact byte below
		}
	}
	for ; i < len(b); i++ {
		if b[i] != patternByte(off+int64(i)) {
			return off + int64(i)
		}
	}
	return -1
}
