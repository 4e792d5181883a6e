package bench

import "fmt"

// The copy modes: the ceiling of a reader that must have the bytes. No
// transport at all: the runner creates a memfd, the writer lays the
// stream's bytes out in it once, before the start gate (the pattern of
// --verify, or filler), and the reader copies them into its buffer, a
// buffer at a time, going through the memfd again and again until it has
// o.Bytes. That is one core's memory copy bandwidth, measured by the same
// runner, counters and profiles as every other mode: the writer is a real
// process that sleeps on the memfd's closed word (see ring.go) from the
// gate until the reader is done, and the reader is the role that works.
//
// In copy the source is one buffer, so it stays in the reader's caches
// with its own buffer; in copy-dram it is dramBytes, four times the
// largest cache of this machine (dram.go), so every byte comes from memory.
// The runner sizes the memfd; the children map the size they are given.

// sourceSize is the size of the copy modes' source: one buffer, or for
// copy-dram the whole buffers that cover dramBytes.
func sourceSize(p plan, bufSize int) int {
	if !p.Dram {
		return bufSize
	}
	n, _ := dramBytes() // Validate refused the run if it could not be had
	return (n + bufSize - 1) / bufSize * bufSize
}

// memfdSize is the size of the memfd the runner makes for the ring and
// copy modes, header page included; 0 for the other transports.
func memfdSize(p plan, bufSize int) int {
	switch p.Transport {
	case ringTransport:
		return ringHeaderBytes + p.RingSizeBytes
	case memoryTransport:
		return ringHeaderBytes + sourceSize(p, bufSize)
	}
	return 0
}

// fillSource is the copy writer's setup: lay the stream's first bytes
// out in the source, as its buffer would hold them.
func (c *child) fillSource() {
	if c.o.Verify {
		stamp(c.ring.data, 0)
	} else {
		fill(c.ring.data, 'X')
	}
}

// copyWait is the copy writer after the gate: it sleeps until the reader
// has all its bytes.
func (c *child) copyWait() error {
	r := c.ring
	for r.closed.Load() == 0 {
		if err := futexWait(r.closed, 0); err != nil {
			return fmt.Errorf("futex wait for the reader: %w", err)
		}
		c.rep.Sleeps++
	}
	return nil
}

// copyRead is the copy reader's loop: copy the source into the buffer, a
// buffer at a time, until o.Bytes; then wake the writer.
func (c *child) copyRead() error {
	r := c.ring
	bytes, tries := counterAt(c.shared, offReaderBytes), counterAt(c.shared, offReaderTries)
	buf := c.buf.data
	src := r.data
	c.rep.Verified = c.o.Verify
	c.rep.Consumed = c.o.Consume
	var off int64
	pos := 0
	for off < c.o.Bytes {
		n := copy(buf[:min(int64(len(buf)), c.o.Bytes-off)], src[pos:])
		tries.Add(1)
		c.use(buf[:n], off, int64(pos))
		if pos += n; pos == len(src) {
			pos = 0
		}
		off += int64(n)
		c.rep.Calls++
		c.rep.Bytes = off
		bytes.Store(off)
		if c.fault == "stall" {
			stall()
		}
	}
	return c.closeShared(r)
}
