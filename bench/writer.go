package bench

import (
	"fmt"
	"math"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// write runs the writer's hot loop until the reader closes its end
// (EPIPE), which is how a writer finishes. In front of a reader command,
// which does not count, the writer stops after o.Bytes and closes its end
// instead, so the command sees EOF.
//
// The hot loops of both roles make raw system calls (rawsys.go) with
// asynchronous preemption off in the child (GODEBUG=asyncpreemptoff=1,
// set by the runner), so the Go runtime stays out of the transfer; see
// rawsys.go for why and what it measured.
func (c *child) write() error {
	start := time.Now()
	var err error
	switch c.p.Writer {
	case "copy":
		err = unlocked(c.ringWrite)
	case "fill":
		err = unlocked(c.copyWait)
	case "vmsplice":
		err = unlocked(c.vmspliceLoop)
	default:
		err = unlocked(c.writeLoop)
	}
	c.rep.DurationNanos = time.Since(start).Nanoseconds()
	unix.Close(fdPipe)
	return err
}

// limit is how many bytes the writer writes in all: o.Bytes in front of
// a reader command, else no limit (the reader stops the transfer).
func (c *child) limit() int64 {
	if c.p.Reader == external {
		return c.o.Bytes
	}
	return math.MaxInt64
}

// writeLoop is write(2) of the whole buffer, again and again.
func (c *child) writeLoop() error {
	bytes, tries := counterAt(c.shared, offWriterBytes), counterAt(c.shared, offWriterTries)
	fds := []unix.PollFd{{Fd: fdPipe, Events: unix.POLLOUT}}
	buf := c.buf.data
	limit := c.limit()
	var off int64
	for off < limit {
		if c.fault == "stall" && off > 0 {
			stall()
		}
		if c.o.Verify {
			stamp(buf, off)
		}
		for rest := buf[:min(int64(len(buf)), limit-off)]; len(rest) > 0; {
			if c.o.Poll {
				c.poll(fds)
			}
			n, err := rawWrite(fdPipe, rest)
			tries.Add(1)
			if c.again(err) {
				continue
			}
			switch {
			case err == unix.EPIPE:
				return nil
			case err != nil:
				return fmt.Errorf("write to pipe after %d bytes: %w", off, err)
			}
			c.rep.Calls++
			rest = rest[n:]
			off += int64(n)
			c.rep.Bytes = off
			bytes.Store(off)
		}
	}
	return nil
}

// vmspliceLoop is the post's double-buffer scheme: vmsplice one half until
// all of it is in the pipe, then the other. With the pipe half the buffer,
// a half that went in whole means the other half has been read.
func (c *child) vmspliceLoop() error {
	half := len(c.buf.data) / 2
	halves := [2][]byte{c.buf.data[:half], c.buf.data[half:]}
	if c.o.SameBuffer {
		halves[1] = halves[0]
	}
	flags := 0
	if c.o.Gift {
		flags |= unix.SPLICE_F_GIFT
	}
	if c.p.Busy {
		flags |= unix.SPLICE_F_NONBLOCK
	}
	var off int64
	for i := 0; off < c.limit(); i ^= 1 {
		if c.fault == "stall" && off > 0 {
			stall()
		}
		h := halves[i]
		if c.o.Verify && !c.o.RewriteAfterSplice {
			stamp(h, off)
		}
		done, err := c.vmspliceAll(h, &off, flags)
		if done || err != nil {
			return err
		}
		if c.o.RewriteAfterSplice {
			// The pages may still sit unread in the pipe: write the
			// content this half carries on its next turn right now.
			stamp(h, off+int64(half))
		}
	}
	return nil
}

// vmspliceAll splices all of h into the pipe. It reports done when the
// reader has closed its end.
func (c *child) vmspliceAll(h []byte, off *int64, flags int) (done bool, err error) {
	bytes, tries := counterAt(c.shared, offWriterBytes), counterAt(c.shared, offWriterTries)
	fds := []unix.PollFd{{Fd: fdPipe, Events: unix.POLLOUT}}
	iov := []unix.Iovec{{}}
	if rest := c.limit() - *off; rest < int64(len(h)) {
		h = h[:rest]
	}
	for pos := 0; pos < len(h); {
		if c.o.Poll {
			c.poll(fds)
		}
		iov[0].Base = (*byte)(unsafe.Pointer(&h[pos]))
		iov[0].SetLen(len(h) - pos)
		n, err := rawVmsplice(fdPipe, iov, flags)
		tries.Add(1)
		if c.again(err) {
			continue
		}
		switch {
		case err == unix.EPIPE:
			return true, nil
		case err != nil:
			return false, fmt.Errorf("vmsplice to pipe after %d bytes: %w", *off, err)
		}
		c.rep.Calls++
		pos += n
		*off += int64(n)
		c.rep.Bytes = *off
		bytes.Store(*off)
	}
	return false, nil
}

// poll waits until the pipe is ready for fds[0].Events.
func (c *child) poll(fds []unix.PollFd) {
	for {
		c.rep.Polls++
		_, err := rawPoll(fds)
		if err != unix.EINTR {
			return // readiness or a real error: the next call reports it
		}
	}
}

// again reports whether a hot-loop call must simply be made again: it
// found the pipe full or empty in a non-blocking mode (EAGAIN, counted) or
// a signal interrupted it (EINTR).
func (c *child) again(err error) bool {
	switch err {
	case unix.EAGAIN:
		c.rep.EAGAIN++
		return true
	case unix.EINTR:
		return true
	}
	return false
}
