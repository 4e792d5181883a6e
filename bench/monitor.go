package bench

import (
	"context"
	"fmt"
	"time"
)

// monitor waits for both children once the gate is open, calling progress
// and enforcing --timeout. It returns nil when both exited cleanly.
func (r *runner) monitor(ctx context.Context) error {
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	wDone, rDone := r.writer.done, r.reader.done
	s := stallWatch{last: time.Now()}
	var readerAt, progressAt time.Time
	for wDone != nil || rDone != nil {
		select {
		case <-wDone:
			wDone = nil
			if r.writer.failed() {
				return r.fail(r.writer, r.reader)
			}
		case <-rDone:
			rDone = nil
			if r.reader.failed() {
				return r.fail(r.reader, r.writer)
			}
			readerAt = time.Now()
		case <-ctx.Done():
			r.killBoth()
			return fmt.Errorf("%w: %v", ErrInterrupted, context.Cause(ctx))
		case now := <-ticker.C:
			if r.progress != nil && now.Sub(progressAt) >= progressTick {
				progressAt = now
				r.progress(Progress{Run: r.index + 1, Bytes: r.readerBytes(), Elapsed: now.Sub(r.started)})
			}
			if rDone == nil {
				if now.Sub(readerAt) > stopGrace {
					r.killBoth()
					return &ChildError{Role: "writer", ExitStatus: -1,
						Message: fmt.Sprintf("did not stop within %s of the reader closing the pipe", stopGrace)}
				}
				continue
			}
			if err := r.checkStall(&s, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// fail handles k's abnormal exit: stop the other child, then blame the
// right one. A reader that saw the pipe close early only reports the
// writer's failure.
func (r *runner) fail(k, other *kid) error {
	other.kill()
	if k.cmd.ProcessState.ExitCode() == exitPeerGone && other.failed() {
		return other.childError()
	}
	return k.childError()
}

// stallWatch tracks the last time bytes moved and the children's call
// counters, for --timeout.
type stallWatch struct {
	last                  time.Time
	bytes, wTries, rTries int64
	wSpinning, rSpinning  bool
}

// checkStall fails the run once no byte has moved for o.Timeout.
func (r *runner) checkStall(s *stallWatch, now time.Time) error {
	bytes := r.readerBytes() + counterAt(r.shared, offWriterBytes).Load()
	wTries, rTries := counterAt(r.shared, offWriterTries).Load(), counterAt(r.shared, offReaderTries).Load()
	s.wSpinning, s.rSpinning = wTries != s.wTries, rTries != s.rTries
	s.wTries, s.rTries = wTries, rTries
	if bytes != s.bytes {
		s.bytes, s.last = bytes, now
		return nil
	}
	if r.o.Timeout <= 0 || now.Sub(s.last) < r.o.Timeout {
		return nil
	}
	role := r.stalledRole(s)
	r.killBoth()
	return &ChildError{Role: role, ExitStatus: -1, Stalled: r.o.Timeout}
}

// stalledRole names the child that stopped: the one that is neither
// blocked in a pipe syscall nor spinning on EAGAIN, while the other waits
// for it. When that is unclear, the reader is blamed.
func (r *runner) stalledRole(s *stallWatch) string {
	wWaits := s.wSpinning || waitingOnPipe(r.writer.cmd.Process.Pid, r.writer.ready.TID)
	rWaits := s.rSpinning || waitingOnPipe(r.reader.cmd.Process.Pid, r.reader.ready.TID)
	if rWaits && !wWaits {
		return "writer"
	}
	return "reader"
}

func (r *runner) readerBytes() int64 {
	return counterAt(r.shared, offReaderBytes).Load()
}

// partial describes a run that did not finish, from the counters and
// whatever the children reported before the gate.
func (r *runner) partial() *RunResult {
	rr := &RunResult{Partial: true, FirstCorruptOffset: -1, Bytes: r.readerBytes()}
	if !r.started.IsZero() {
		rr.Duration = time.Since(r.started)
		rr.GiBPerSec = gibPerSec(rr.Bytes, rr.Duration)
	}
	for _, k := range []*kid{r.writer, r.reader} {
		if k == nil {
			continue
		}
		k.drain()
		rep := k.ready
		if k.result != nil {
			rep = k.result
		}
		if rep == nil {
			rep = &ChildReport{PID: k.cmd.Process.Pid, FirstCorruptOffset: -1}
		}
		r.setChild(rr, k.role, *rep)
	}
	return rr
}

func (r *runner) setChild(rr *RunResult, role string, rep ChildReport) {
	if role == "writer" {
		rr.Writer, rr.WriterPID = rep, rep.PID
	} else {
		rr.Reader, rr.ReaderPID = rep, rep.PID
	}
}

// complete builds the result of a run in which both children exited
// cleanly, from their result lines.
func (r *runner) complete() (*RunResult, error) {
	r.writer.drain()
	r.reader.drain()
	rep := r.reader.result
	if rep == nil || r.writer.result == nil {
		return r.partial(), fmt.Errorf("children exited without a result (a pipelab bug)")
	}
	if rep.Bytes != r.o.Bytes {
		return r.partial(), fmt.Errorf("reader took %d bytes, want %d (a pipelab bug)", rep.Bytes, r.o.Bytes)
	}
	rr := &RunResult{
		Bytes:              rep.Bytes,
		Duration:           time.Duration(rep.DurationNanos),
		Verified:           rep.Verified,
		FirstCorruptOffset: rep.FirstCorruptOffset,
	}
	rr.GiBPerSec = gibPerSec(rr.Bytes, rr.Duration)
	r.setChild(rr, "writer", *r.writer.result)
	r.setChild(rr, "reader", *rep)
	return rr, nil
}
