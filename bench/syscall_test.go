package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestExactBytesOddSize runs every mode, blocking, polling and busy, for a
// byte count that is not a multiple of the buffer (nor of a page): the
// reader must stop at exactly that many bytes, and the writer must stop
// cleanly (EPIPE) with no more in flight than the pipe could hold.
func TestExactBytesOddSize(t *testing.T) {
	for _, m := range Modes() {
		for _, variant := range []string{"plain", "poll", "busy"} {
			switch {
			case m.busy && variant != "plain":
				continue // modes busy and ring-busy are busy already and refuse --poll
			case variant == "poll" && (m.Transport == ringTransport || m.Transport == memoryTransport):
				continue // nothing to poll
			case variant == "busy" && m.Transport == memoryTransport:
				continue // nothing to wait for
			case m.dram:
				continue // its 1GiB source takes seconds to lay out; TestConsumeVerifyEveryMode runs it
			}
			t.Run(m.Name+"/"+variant, func(t *testing.T) {
				if m.huge {
					mustHaveHugePages(t)
				}
				o := one(m.Name)
				o.Bytes = 64<<20 + 12345
				o.Poll, o.Busy = variant == "poll", variant == "busy"
				r := runOne(t, o)
				checkWriterStopped(t, r)
			})
		}
	}
}

// checkWriterStopped checks that the writer moved at least what the
// reader took and at most a pipe (socket buffer, ring) more: it stopped
// at the reader's close. The copy modes' writer moves nothing after the
// start.
func checkWriterStopped(t *testing.T, r RunResult) {
	t.Helper()
	if r.Writer.TransportBytes == 0 {
		if r.Writer.Bytes != 0 {
			t.Errorf("copy writer moved %d bytes after the start, want 0", r.Writer.Bytes)
		}
		return
	}
	extra := r.Writer.Bytes - r.Reader.Bytes
	if extra < 0 || extra > int64(r.Writer.TransportBytes) {
		t.Errorf("writer moved %d bytes, reader took %d: want 0 to %d (what the transport holds) more", r.Writer.Bytes, r.Reader.Bytes, r.Writer.TransportBytes)
	}
}

// TestShortCalls shows partial transfers are the norm and handled: a
// read(2) or splice(2) returns at most a pipe's worth, less than the
// 256KiB buffer asked for, and the totals still come out exact.
func TestShortCalls(t *testing.T) {
	for _, mode := range []string{"write", "vmsplice", "splice"} {
		t.Run(mode, func(t *testing.T) {
			o := one(mode)
			o.Bytes = 16<<20 + 4097
			r := runOne(t, o)
			if min := o.Bytes / int64(r.Reader.PipeSizeBytes); r.Reader.Calls < min {
				t.Errorf("reader: %d calls for %d bytes through a %d-byte pipe, want at least %d", r.Reader.Calls, r.Reader.Bytes, r.Reader.PipeSizeBytes, min)
			}
			checkWriterStopped(t, r)
		})
	}
}

// TestSignalStorm interrupts both children's threads with SIGURG (which
// the Go runtime catches) thousands of times during a transfer: blocked
// pipe calls restart or return short and poll(2) returns EINTR; the bytes
// must still arrive exactly.
func TestSignalStorm(t *testing.T) {
	for _, c := range []struct {
		mode string
		poll bool
	}{{"write", false}, {"write", true}, {"vmsplice", false}, {"splice", true}} {
		t.Run(fmt.Sprintf("%s/poll=%v", c.mode, c.poll), func(t *testing.T) {
			o := one(c.mode)
			o.Bytes = 256<<20 + 999
			o.Poll = c.poll
			var sent atomic.Int64
			var wg sync.WaitGroup
			stop := make(chan struct{})
			obs := &observer{
				attach: func(w, r int) error {
					wg.Add(1)
					go func() {
						defer wg.Done()
						storm(stop, &sent, w, r)
					}()
					return nil
				},
				stop: func() error {
					close(stop)
					wg.Wait()
					return nil
				},
			}
			res, err := Run(context.Background(), o, obs, nil)
			noChildren(t)
			if err != nil {
				t.Fatalf("Run under a signal storm: %v", err)
			}
			r := res.Runs[0]
			if r.Bytes != o.Bytes || r.Reader.Bytes != o.Bytes {
				t.Errorf("reader got %d bytes, want %d", r.Bytes, o.Bytes)
			}
			checkWriterStopped(t, r)
			if sent.Load() < 100 {
				t.Errorf("only %d signals reached the children; the storm did not happen", sent.Load())
			}
			t.Logf("%d signals delivered in %v", sent.Load(), r.Duration)
		})
	}
}

// storm sends SIGURG to every thread of pids until stop is closed.
func storm(stop chan struct{}, sent *atomic.Int64, pids ...int) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		for _, pid := range pids {
			tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*")
			for _, task := range tasks {
				tid, _ := strconv.Atoi(filepath.Base(task))
				if unix.Tgkill(pid, tid, unix.SIGURG) == nil {
					sent.Add(1)
				}
			}
		}
		time.Sleep(20 * time.Microsecond)
	}
}
