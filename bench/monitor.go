package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pipelab/pipelab/result"
)

// monitor waits for both children once the gate is open, calling progress
// and enforcing --timeout. It returns nil when both exited cleanly, or a
// writer command ended as it should once the reader had closed the pipe.
func (r *runner) monitor(ctx context.Context) error {
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	wDone, rDone := r.writer.done, r.reader.done
	s := stallWatch{last: time.Now()}
	var readerAt, writerAt, progressAt time.Time
	for wDone != nil || rDone != nil {
		select {
		case <-wDone:
			wDone, writerAt = nil, time.Now()
			switch {
			case !r.writer.failed():
				// It ended on its own. The reader may be reaped first
				// (it sees EOF at once), so its exit says nothing.
			case r.writerClosedOut(rDone == nil):
				r.writer.afterClose = true
			default:
				return r.fail(r.writer, r.reader)
			}
		case <-rDone:
			rDone, readerAt = nil, time.Now()
			if r.reader.failed() && !r.reader.stopped {
				return r.fail(r.reader, r.writer)
			}
		case <-ctx.Done():
			r.killBoth()
			return interruption(ctx, "")
		case now := <-ticker.C:
			if r.progress != nil && now.Sub(progressAt) >= progressTick {
				progressAt = now
				r.progress(Progress{Run: r.index + 1, Bytes: r.movedBytes(), Elapsed: now.Sub(r.started)})
			}
			switch {
			case rDone == nil && now.Sub(readerAt) > stopGrace:
				if r.writer.command == "" && exiting(r.writer.cmd.Process.Pid) && now.Sub(readerAt) < exitGrace {
					break // it stopped; the kernel is taking its memory down
				}
				if r.writer.command == "" {
					r.killBoth()
					return &ChildError{Role: "writer", ExitStatus: -1,
						Message: fmt.Sprintf("did not stop within %s of the reader closing the pipe", stopGrace)}
				}
				r.stopLate(r.writer, "the reader closing the pipe")
			case rDone == nil:
			case wDone == nil && r.reader.command != "":
				if now.Sub(writerAt) > stopGrace {
					r.stopLate(r.reader, "the writer closing the pipe")
				}
			case r.p.Writer == external && r.p.Reader == external:
				// Nobody on the pipe counts bytes: no --timeout.
			default:
				if err := r.checkStall(&s, now); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// writerClosedOut reports whether a writer command that has exited did so
// because its reader had closed the pipe: the reader had exited, or
// pipelab's reader had taken all its bytes, or the command died of
// SIGPIPE. Its exit status then is no failure.
func (r *runner) writerClosedOut(readerDone bool) bool {
	if r.writer.command == "" {
		return false
	}
	return readerDone || r.writer.sigpiped() || r.p.Reader != external && r.readerBytes() >= r.o.Bytes
}

// stopLate stops a command that did not exit within stopGrace of its
// peer closing the pipe, and says so.
func (r *runner) stopLate(k *kid, why string) {
	r.warnings = append(r.warnings, lateWarning(k.role, k.command, why))
	k.kill()
}

// lateWarning says that role's command did not exit within stopGrace of
// why, and was stopped.
func lateWarning(role, command, why string) Warning {
	return warnf("%s command %s did not exit within %s of %s: stopped it (SIGTERM, SIGKILL %s later)",
		role, strconv.Quote(command), stopGrace, why, termGrace)
}

// fail handles k's abnormal exit: stop the other child, then blame the
// right one. A reader that saw the pipe close early only reports the
// writer's failure.
func (r *runner) fail(k, other *kid) error {
	other.kill()
	if k.command == "" && k.cmd.ProcessState.ExitCode() == exitPeerGone && other.failed() {
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

// movedBytes is what pipelab's side has moved so far: its reader's
// count, or its writer's in front of a reader command.
func (r *runner) movedBytes() int64 {
	if r.p.Reader == external {
		return counterAt(r.shared, offWriterBytes).Load()
	}
	return r.readerBytes()
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
	rr.Commands = r.commands()
	return rr
}

// commands lists the status of each external command that has been
// reaped, writer first.
func (r *runner) commands() []result.CommandStatus {
	var cs []result.CommandStatus
	for _, k := range []*kid{r.writer, r.reader} {
		if k != nil && k.command != "" && k.exited() {
			cs = append(cs, k.status())
		}
	}
	return cs
}

func (r *runner) setChild(rr *RunResult, role string, rep ChildReport) {
	if role == "writer" {
		rr.Writer, rr.WriterPID = rep, rep.PID
	} else {
		rr.Reader, rr.ReaderPID = rep, rep.PID
	}
}

// complete builds the result of a run in which both children exited
// cleanly (or a writer command ended once the pipe was closed), from
// their result lines: the bytes and the time of pipelab's reader, or of
// pipelab's writer in front of a reader command, or of the commands'
// I/O accounting when both sides are commands (see external.go). A run
// that moved too little to time is a *ShortError.
func (r *runner) complete() (*RunResult, error) {
	r.writer.drain()
	r.reader.drain()
	rr := &RunResult{FirstCorruptOffset: -1, Commands: r.commands()}
	switch {
	case r.p.Reader != external:
		rep := r.reader.result
		if rep == nil {
			return r.partial(), fmt.Errorf("reader exited without a result (a pipelab bug)")
		}
		if r.p.Writer != external && rep.Bytes != r.o.Bytes {
			return r.partial(), fmt.Errorf("reader took %d bytes, want %d (a pipelab bug)", rep.Bytes, r.o.Bytes)
		}
		if err := r.checkShort(r.writer, rep.Bytes); err != nil {
			return r.partial(), err
		}
		if rep.Bytes < r.o.Bytes {
			r.warnings = append(r.warnings, warn("the writer command closed the pipe after ", FormatSize(rep.Bytes),
				", before ", field("Bytes"), " ", FormatSize(r.o.Bytes)))
		}
		rr.Bytes, rr.Duration = rep.Bytes, time.Duration(rep.DurationNanos)
		rr.Verified, rr.FirstCorruptOffset = rep.Verified, rep.FirstCorruptOffset
	case r.p.Writer != external:
		rep := r.writer.result
		if rep == nil {
			return r.partial(), fmt.Errorf("writer exited without a result (a pipelab bug)")
		}
		if err := r.checkShort(r.reader, rep.Bytes); err != nil {
			return r.partial(), err
		}
		if rep.Bytes < r.o.Bytes {
			r.warnings = append(r.warnings, warn("the reader command closed the pipe after taking at most ", FormatSize(rep.Bytes),
				", before ", field("Bytes"), " ", FormatSize(r.o.Bytes),
				" (the rest of what pipelab's writer wrote, up to a pipe's worth, may have gone unread)"))
		}
		rr.Bytes, rr.Duration = rep.Bytes, time.Duration(rep.DurationNanos)
	default:
		rr.Duration = r.lastExit().Sub(r.started)
		var counted bool
		rr.Bytes, counted = r.countedBytes()
		rr.Uncounted = !counted
		if counted {
			if err := r.checkShort(r.writer, rr.Bytes); err != nil {
				return r.partial(), err
			}
		}
	}
	rr.GiBPerSec = gibPerSec(rr.Bytes, rr.Duration)
	for _, k := range []*kid{r.writer, r.reader} {
		rep := k.result
		if rep == nil {
			rep = k.ready
		}
		if rep != nil {
			r.setChild(rr, k.role, *rep)
		}
	}
	return rr, nil
}

// lastExit is when the later of the two children exited.
func (r *runner) lastExit() time.Time {
	if r.writer.exitedAt.After(r.reader.exitedAt) {
		return r.writer.exitedAt
	}
	return r.reader.exitedAt
}

// countedBytes is what crossed the pipe between two commands, as far as
// the kernel's I/O accounting tells: the writer's wchar and the reader's
// rchar (see ioCounts), when they agree within 1MiB and 1%. Otherwise
// false, with a warning that says why: either side may move bytes with
// splice(2) or vmsplice(2), which are not accounted, or read and write
// other files, or pass bytes along a pipeline of its own.
func (r *runner) countedBytes() (int64, bool) {
	w, rd := r.writer.io.since(r.writer.ioBase), r.reader.io.since(r.reader.ioBase)
	if !w.ok || !rd.ok {
		r.warnings = appendOnce(r.warnings, warn("both sides are commands and their /proc/PID/io could not be read: the bytes that crossed the pipe are unknown, and so is the throughput"))
		return 0, false
	}
	diff := w.wchar - rd.rchar
	if diff < 0 {
		diff = -diff
	}
	if diff > 1<<20+max(w.wchar, rd.rchar)/100 {
		r.warnings = appendOnce(r.warnings, warnf("both sides are commands and their I/O accounting disagrees (writer wrote %d bytes, reader read %d, counting read/write/sendfile on any file and no splice or vmsplice): the bytes that crossed the pipe cannot be counted honestly, so no throughput is given",
			w.wchar, rd.rchar))
		return 0, false
	}
	r.warnings = appendOnce(r.warnings, warn("both sides are commands: bytes are the smaller of the writer's wchar and the reader's rchar (/proc/PID/io: read/write/sendfile family, no splice or vmsplice; they agree within 1%), time is from the gate to the later exit, and ", field("Bytes"), " stops nothing"))
	return min(w.wchar, rd.rchar), true
}
