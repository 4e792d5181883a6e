package bench

import (
	"encoding/binary"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Consuming readers (Options.Consume). A reader consumes when it uses
// every byte it takes: here it sums them, as a stand-in for a program
// that parses or hashes its input. The sum (checksum) is defined on the
// stream, whatever sizes the reads came in, so a run's ChildReport.Checksum
// can be checked against what the writer sent.
//
// A splice reader never has the bytes (they go from the pipe to
// /dev/null by reference), so to consume it must first get them into its
// memory. Two system calls can do that from a pipe: read(2), and
// vmsplice(2) on the pipe's read end, which copies the pipe's pages into
// the iovec's memory. Both copy once, in the kernel; vmsplice goes
// through the splice machinery instead of the pipe's read_iter.
// consumeReader is the one a consuming splice reader uses; the other
// stays reachable through envConsumeVia for BenchmarkConsumeVia, which
// measures the two interleaved (docs/ceiling.md has the figures).

// consumeReader is the plan.Reader of a splice mode run with Consume.
const consumeReader = "read"

// envConsumeVia is a benchmark hook: "vmsplice" makes a consuming splice
// reader take its bytes with vmsplice(2) from the pipe instead of
// consumeReader. The runner and the children read it alike.
const envConsumeVia = "PIPELAB_BENCH_CONSUME_VIA"

// vmspliceIn is the plan.Reader of a reader taking the pipe's bytes into
// its buffer with vmsplice(2) (envConsumeVia).
const vmspliceIn = "vmsplice-in"

// consumeVia returns the reader a consuming splice reader uses.
func consumeVia() string {
	if os.Getenv(envConsumeVia) == "vmsplice" {
		return vmspliceIn
	}
	return consumeReader
}

// checksum adds to sum the bytes of b, which start at stream offset off:
// the little-endian uint64 words at stream offsets that are multiples of
// 8, a partial word at either end counting its bytes in their places.
// The result, modulo 2^64, is the same however the stream is cut.
func checksum(b []byte, off int64, sum uint64) uint64 {
	i := 0
	for ; i < len(b) && (off+int64(i))&7 != 0; i++ {
		sum += uint64(b[i]) << (8 * uint((off+int64(i))&7))
	}
	var s0, s1, s2, s3 uint64
	for ; i+32 <= len(b); i += 32 {
		w := b[i : i+32 : i+32]
		s0 += binary.LittleEndian.Uint64(w[0:])
		s1 += binary.LittleEndian.Uint64(w[8:])
		s2 += binary.LittleEndian.Uint64(w[16:])
		s3 += binary.LittleEndian.Uint64(w[24:])
	}
	for ; i+8 <= len(b); i += 8 {
		s0 += binary.LittleEndian.Uint64(b[i:])
	}
	sum += s0 + s1 + s2 + s3
	for ; i < len(b); i++ {
		sum += uint64(b[i]) << (8 * uint((off+int64(i))&7))
	}
	return sum
}

// use checks and consumes a chunk the reader took at stream offset off,
// as Verify and Consume ask. at is the offset of the pattern the chunk
// should hold, off itself except in the copy modes, whose reader takes
// the same source again and again.
func (c *child) use(chunk []byte, off, at int64) {
	if c.o.Verify && c.rep.FirstCorruptOffset < 0 {
		if bad := firstCorrupt(chunk, at); bad >= 0 {
			c.rep.FirstCorruptOffset = off + bad - at
		}
	}
	if c.o.Consume {
		c.rep.Checksum = checksum(chunk, off, c.rep.Checksum)
	}
}

// vmspliceRecv is vmsplice(2) from the pipe fd into b: the pipe's bytes
// copied into the reader's memory.
func vmspliceRecv(fd int, iov []unix.Iovec, b []byte, flags int) (int, error) {
	iov[0].Base = (*byte)(unsafe.Pointer(&b[0]))
	iov[0].SetLen(len(b))
	return rawVmsplice(fd, iov, flags)
}
