package bench

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// read runs the reader's hot loop until it has taken exactly o.Bytes, then
// closes its end of the pipe so the writer stops.
func (c *child) read() error {
	var err error
	start := time.Now()
	switch {
	case c.p.Transport == ringTransport:
		err = unlocked(c.ringRead)
	case c.p.Transport == memoryTransport:
		err = unlocked(c.copyRead)
	case c.p.Reader == "splice":
		err = c.splice()
	default:
		err = unlocked(c.readLoop)
	}
	c.rep.DurationNanos = time.Since(start).Nanoseconds()
	unix.Close(fdPipe)
	return err
}

// readLoop is read(2) into the buffer (or vmsplice(2) from the pipe into
// it, see consume.go), checking the pattern with --verify and summing
// the bytes with --consume.
func (c *child) readLoop() error {
	bytes, tries := counterAt(c.shared, offReaderBytes), counterAt(c.shared, offReaderTries)
	fds := []unix.PollFd{{Fd: fdPipe, Events: unix.POLLIN}}
	iov := []unix.Iovec{{}}
	vmspliceFlags := 0
	if c.p.Busy {
		vmspliceFlags = unix.SPLICE_F_NONBLOCK
	}
	buf := c.buf.data
	c.rep.Verified = c.o.Verify
	c.rep.Consumed = c.o.Consume
	var off int64
	for off < c.o.Bytes {
		if c.o.Poll {
			c.poll(fds)
		}
		chunk := buf[:min(int64(len(buf)), c.o.Bytes-off)]
		var n int
		var err error
		if c.p.Reader == vmspliceIn {
			n, err = vmspliceRecv(fdPipe, iov, chunk, vmspliceFlags)
		} else {
			n, err = rawRead(fdPipe, chunk)
		}
		tries.Add(1)
		if c.again(err) {
			continue
		}
		switch {
		case err != nil:
			return fmt.Errorf("%s from %s after %d bytes: %w", c.p.Reader, c.p.Transport, off, err)
		case n == 0 && c.p.Writer == external:
			return nil // the writer command ended the stream
		case n == 0:
			return peerGone{fmt.Errorf("%s from %s: writer closed it after %d of %d bytes", c.p.Reader, c.p.Transport, off, c.o.Bytes)}
		}
		c.rep.Calls++
		c.use(chunk[:n], off, off)
		off += int64(n)
		c.rep.Bytes = off
		bytes.Store(off)
		if c.fault == "stall" {
			stall()
		}
	}
	return nil
}

// splice opens /dev/null and runs spliceLoop into it.
func (c *child) splice() error {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer null.Close()
	nfd := int(null.Fd())
	return unlocked(func() error { return c.spliceLoop(nfd) })
}

// spliceLoop is splice(2) from the pipe to nfd: no copy at all.
func (c *child) spliceLoop(nfd int) error {
	bytes, tries := counterAt(c.shared, offReaderBytes), counterAt(c.shared, offReaderTries)
	fds := []unix.PollFd{{Fd: fdPipe, Events: unix.POLLIN}}
	flags := 0
	if c.o.Gift {
		flags |= unix.SPLICE_F_MOVE
	}
	if c.p.Busy {
		flags |= unix.SPLICE_F_NONBLOCK
	}
	var off int64
	for off < c.o.Bytes {
		if c.o.Poll {
			c.poll(fds)
		}
		n, err := rawSplice(fdPipe, nfd, int(min(int64(c.o.BufSizeBytes), c.o.Bytes-off)), flags)
		tries.Add(1)
		if c.again(err) {
			continue
		}
		switch {
		case err != nil:
			return fmt.Errorf("splice from pipe after %d bytes: %w", off, err)
		case n == 0 && c.p.Writer == external:
			return nil // the writer command ended the stream
		case n == 0:
			return peerGone{fmt.Errorf("splice from pipe: writer closed it after %d of %d bytes", off, c.o.Bytes)}
		}
		c.rep.Calls++
		off += int64(n)
		c.rep.Bytes = off
		bytes.Store(off)
		if c.fault == "stall" {
			stall()
		}
	}
	return nil
}
