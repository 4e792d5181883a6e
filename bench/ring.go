package bench

import (
	"fmt"
	"math/bits"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The ring modes. The runner creates a memfd and gives it to both
// children, which map it shared: a header page, then the ring, a power
// of two of bytes. The writer is the only one to move head (the stream
// offset up to which it has written), the reader the only one to move
// tail (up to which it has read), so the ring needs no lock: a side
// publishes its index with an atomic store after its copy, and the other
// loads it before its own (release and acquire; Go's atomics are
// sequentially consistent, which the futex handshake below needs too).
//
// The writer copies its buffer into the ring whole once there is room
// for it, which is why the ring holds at least two buffers: the writer
// fills one while the reader empties the other (by default it holds
// eight, see defaultRingSizeBytes). The reader copies out up
// to a buffer at a time into its own buffer, as read(2) would.
//
// In ring, a side that finds the ring full (writer) or empty (reader)
// sleeps in futex(2) FUTEX_WAIT on a word of the header: it sets the word
// to 1, checks the other side's index once more, and sleeps only if still
// blocked; the other side, after each store of its index, loads the word
// and, if set, clears it and wakes the sleeper (FUTEX_WAKE). Each side's
// store comes before its load, so one of them sees the other's: no
// wake-up is lost. The writer wakes a sleeping reader as soon as a buffer
// is in; the reader wakes a sleeping writer only once half the ring is
// free (or a buffer, if that is more), so that a writer faster than its
// reader sleeps once per half ring rather than once per buffer: each
// wake-up costs the waker a system call and an inter-processor interrupt
// (docs/ceiling.md has what it cost a consuming reader to wake the writer
// per buffer). No wake-up is lost for it: the writer sleeps only while it
// is not, so the reader keeps freeing space, and an empty ring is half
// free. In ring-busy both sides
// spin on the index instead.
//
// The futex words are shared between processes (no FUTEX_PRIVATE_FLAG):
// the kernel keys them by the memfd's page, not by an address space.

// Offsets in the header page of the ring's memfd (and of the copy modes',
// which use closed only). Each word the two sides share sits on its own
// cache line: head and readerWait are the writer's to store, tail and
// writerWait and closed the reader's, and every store of one would pull
// a line both need away from the other CPU.
const (
	ringOffHead       = 0   // uint64: stream offset up to which the writer has written
	ringOffTail       = 64  // uint64: stream offset up to which the reader has read
	ringOffReaderWait = 128 // uint32 futex word: 1 while the reader sleeps on an empty ring
	ringOffWriterWait = 192 // uint32 futex word: 1 while the writer sleeps on a full ring
	ringOffClosed     = 256 // uint32 futex word: 1 once the reader has all its bytes
	ringHeaderBytes   = 4096
)

// Operations of futex(2), <linux/futex.h>; without FUTEX_PRIVATE_FLAG,
// so that they work across processes.
const (
	futexWaitOp = 0 // FUTEX_WAIT
	futexWakeOp = 1 // FUTEX_WAKE
)

// maxRingSizeBytes bounds RingSizeBytes, and so the buffer of a ring
// mode to half of it.
const maxRingSizeBytes = 1 << 30

// defaultRingSizeBytes is the ring size when the options give none and
// two buffers fit: eight of the post's 256KiB buffers. A ring of two
// buffers makes a futex ring sleep on almost every buffer; docs/ceiling.md
// has the figures.
const defaultRingSizeBytes = 2 << 20

// ringSize is the ring size o asks for, or the default: the larger of
// defaultRingSizeBytes and leastRingSize.
func ringSize(o Options) int {
	if o.RingSizeBytes != 0 {
		return o.RingSizeBytes
	}
	return max(defaultRingSizeBytes, leastRingSize(o.BufSizeBytes))
}

// leastRingSize is the smallest ring for buffers of bufSize bytes: the
// least power of two that holds two of them (0 when two do not fit in
// maxRingSizeBytes, or for a size that is not positive).
func leastRingSize(bufSize int) int {
	if bufSize <= 0 || bufSize > maxRingSizeBytes/2 {
		return 0
	}
	return 1 << bits.Len(uint(2*bufSize-1))
}

// ring is one child's mapping of the ring's memfd.
type ring struct {
	mem        []byte
	data       []byte // the ring itself, len a power of two
	mask       uint64
	head, tail *atomic.Uint64
	readerWait *atomic.Uint32
	writerWait *atomic.Uint32
	closed     *atomic.Uint32
}

// mapRing maps the memfd at fdPipe: the header page and size bytes after
// it, populated (MAP_POPULATE), so that no page fault lands in the
// transfer. The caller then touches it as its role will (see touch).
func mapRing(size int) (*ring, error) {
	m, err := unix.Mmap(fdPipe, 0, ringHeaderBytes+size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap %s of the memfd: %w", FormatSize(int64(ringHeaderBytes+size)), err)
	}
	return &ring{
		mem:        m,
		data:       m[ringHeaderBytes:],
		mask:       uint64(size - 1),
		head:       (*atomic.Uint64)(unsafe.Pointer(&m[ringOffHead])),
		tail:       (*atomic.Uint64)(unsafe.Pointer(&m[ringOffTail])),
		readerWait: (*atomic.Uint32)(unsafe.Pointer(&m[ringOffReaderWait])),
		writerWait: (*atomic.Uint32)(unsafe.Pointer(&m[ringOffWriterWait])),
		closed:     (*atomic.Uint32)(unsafe.Pointer(&m[ringOffClosed])),
	}, nil
}

// touch makes the role's first access to every page of the mapping
// before the gate: the writer stores into each page of the ring, the
// reader loads from each. Mapped and populated is not enough everywhere:
// in a guest whose pages the hypervisor maps per process (shadow page
// tables, as PVM has), a process's first access to each page still exits
// to the hypervisor, which took copy-dram's first pass through its 1GiB
// from 20 to 2GiB/s here. The copy writer's fill is its touch.
func (r *ring) touch(role string) {
	var sum byte
	for off := 0; off < len(r.mem); off += pageSize {
		if role == "writer" && off >= ringHeaderBytes {
			r.mem[off] = 0
		} else {
			sum += r.mem[off]
		}
	}
	touchSink = sum
}

// touchSink keeps touch's loads from being optimised away.
var touchSink byte

// put copies b into the ring at stream offset pos, in two pieces where
// it wraps; with streaming, through non-temporal stores.
func (r *ring) put(pos uint64, b []byte, streaming bool) {
	p := pos & r.mask
	first := b[:min(uint64(len(b)), uint64(len(r.data))-p)]
	rest := b[len(first):]
	if streaming {
		streamCopy(r.data[p:], first)
		streamCopy(r.data, rest)
		return
	}
	copy(r.data[p:], first)
	copy(r.data, rest)
}

// get copies len(b) bytes out of the ring from stream offset pos.
func (r *ring) get(pos uint64, b []byte) {
	p := pos & r.mask
	n := copy(b, r.data[p:])
	copy(b[n:], r.data)
}

// ringWrite is the writer's loop: stamp the buffer (--verify), wait for
// room for all of it, copy it in, publish it, wake the reader if it
// sleeps; until the reader closes the ring.
func (c *child) ringWrite() error {
	r := c.ring
	bytes, tries := counterAt(c.shared, offWriterBytes), counterAt(c.shared, offWriterTries)
	buf := c.buf.data
	need := uint64(len(buf))
	size := uint64(len(r.data))
	var head uint64
	for {
		if c.fault == "stall" && head > 0 {
			stall()
		}
		if c.o.Verify {
			stamp(buf, int64(head))
		}
		for {
			tries.Add(1)
			if r.closed.Load() != 0 {
				return nil
			}
			if size-(head-r.tail.Load()) >= need {
				break
			}
			if c.p.Busy {
				c.rep.EAGAIN++
				continue
			}
			r.writerWait.Store(1)
			if r.closed.Load() != 0 || size-(head-r.tail.Load()) >= need {
				r.writerWait.Store(0)
				continue
			}
			if err := futexWait(r.writerWait, 1); err != nil {
				return fmt.Errorf("futex wait on a full ring after %d bytes: %w", head, err)
			}
			c.rep.Sleeps++
		}
		r.put(head, buf, c.o.Streaming)
		head += need
		r.head.Store(head)
		if r.readerWait.Load() != 0 {
			if err := c.wake(r.readerWait); err != nil {
				return fmt.Errorf("futex wake of the reader after %d bytes: %w", head, err)
			}
		}
		c.rep.Calls++
		c.rep.Bytes = int64(head)
		bytes.Store(int64(head))
	}
}

// ringRead is the reader's loop: wait for bytes, copy up to a buffer of
// them out, publish the new tail, wake the writer if it sleeps; then,
// with all o.Bytes taken, close the ring.
func (c *child) ringRead() error {
	r := c.ring
	bytes, tries := counterAt(c.shared, offReaderBytes), counterAt(c.shared, offReaderTries)
	buf := c.buf.data
	size := uint64(len(r.data))
	wakeAt := max(uint64(len(buf)), size/2)
	c.rep.Verified = c.o.Verify
	c.rep.Consumed = c.o.Consume
	var tail uint64
	for int64(tail) < c.o.Bytes {
		var head uint64
		for {
			tries.Add(1)
			if head = r.head.Load(); head != tail {
				break
			}
			if c.p.Busy {
				c.rep.EAGAIN++
				continue
			}
			r.readerWait.Store(1)
			if head = r.head.Load(); head != tail {
				r.readerWait.Store(0)
				break
			}
			if err := futexWait(r.readerWait, 1); err != nil {
				return fmt.Errorf("futex wait on an empty ring after %d bytes: %w", tail, err)
			}
			c.rep.Sleeps++
		}
		chunk := buf[:min(head-tail, uint64(len(buf)), uint64(c.o.Bytes)-tail)]
		r.get(tail, chunk)
		c.use(chunk, int64(tail), int64(tail))
		tail += uint64(len(chunk))
		r.tail.Store(tail)
		if r.writerWait.Load() != 0 && size-(head-tail) >= wakeAt {
			if err := c.wake(r.writerWait); err != nil {
				return fmt.Errorf("futex wake of the writer after %d bytes: %w", tail, err)
			}
		}
		c.rep.Calls++
		c.rep.Bytes = int64(tail)
		bytes.Store(int64(tail))
		if c.fault == "stall" {
			stall()
		}
	}
	return c.closeShared(r)
}

// closeShared tells the writer that the reader has all its bytes: it
// sets the closed word and wakes whatever sleeps on it or on a full ring.
func (c *child) closeShared(r *ring) error {
	r.closed.Store(1)
	if err := futexWake(r.closed); err != nil {
		return fmt.Errorf("futex wake on close: %w", err)
	}
	if r.writerWait.Load() != 0 {
		return c.wake(r.writerWait)
	}
	return nil
}

// wake clears a futex word the other side set and wakes it.
func (c *child) wake(word *atomic.Uint32) error {
	word.Store(0)
	c.rep.Wakes++
	return futexWake(word)
}

// futexWait sleeps while *word is val (FUTEX_WAIT, shared between
// processes). A wake-up, a changed word (EAGAIN) and a signal (EINTR)
// all return nil: the caller checks its condition again.
func futexWait(word *atomic.Uint32, val uint32) error {
	_, _, e := syscall.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWaitOp, uintptr(val), 0, 0, 0)
	if e == unix.EAGAIN || e == unix.EINTR {
		return nil
	}
	return rawErr(e)
}

// futexWake wakes one sleeper on word (FUTEX_WAKE).
func futexWake(word *atomic.Uint32) error {
	_, _, e := syscall.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWakeOp, 1, 0, 0, 0)
	return rawErr(e)
}
