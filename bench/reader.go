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
	if c.p.Reader == "splice" {
		err = c.splice()
	} else {
		err = unlocked(c.readLoop)
	}
	c.rep.DurationNanos = time.Since(start).Nanoseconds()
	unix.Close(fdPipe)
	return err
}

// readLoop is read(2) into the buffer, checking the pattern with --verify.
func (c *child) readLoop() error {
	bytes, tries := counterAt(c.shared, offReaderBytes), counterAt(c.shared, offReaderTries)
	fds := []unix.PollFd{{Fd: fdPipe, Events: unix.POLLIN}}
	buf := c.buf.data
	c.rep.Verified = c.o.Verify
	var off int64
	for off < c.o.Bytes {
		if c.o.Poll {
			c.poll(fds)
		}
		chunk := buf[:min(int64(len(buf)), c.o.Bytes-off)]
		n, err := rawRead(fdPipe, chunk)
		tries.Add(1)
		if c.again(err) {
			continue
		}
		switch {
		case err != nil:
			return fmt.Errorf("read from pipe after %d bytes: %w", off, err)
		case n == 0 && c.p.Writer == external:
			return nil // the writer command ended the stream
		case n == 0:
			return peerGone{fmt.Errorf("read from pipe: writer closed it after %d of %d bytes", off, c.o.Bytes)}
		}
		c.rep.Calls++
		if c.o.Verify && c.rep.FirstCorruptOffset < 0 {
			c.rep.FirstCorruptOffset = firstCorrupt(chunk[:n], off)
		}
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
