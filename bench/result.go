package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pipelab/pipelab/result"
)

// ErrInterrupted is wrapped by the error Run returns when its context is
// cancelled; the Result then holds the runs completed so far.
var ErrInterrupted = errors.New("interrupted")

// interruption is the error of a run whose context was cancelled: it wraps
// ErrInterrupted, says when, and gives the context's cause when the caller
// set one (context.WithCancelCause), not the bare "context canceled".
func interruption(ctx context.Context, when string) error {
	if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
		return fmt.Errorf("%w%s: %w", ErrInterrupted, when, cause)
	}
	return fmt.Errorf("%w%s", ErrInterrupted, when)
}

// Progress is a snapshot of the run under way, for a progress line.
type Progress struct {
	// Run counts from 1 to Options.Repeat.
	Run int
	// Bytes is what the reader has taken so far in this run.
	Bytes int64
	// Elapsed is the time since the start gate opened.
	Elapsed time.Duration
}

// Result is everything Run measured.
type Result struct {
	// Options are the options of the run, as given.
	Options Options
	// Runs holds one entry per repeat, in order. A run cut short by a
	// failure or an interrupt is last, with Partial set.
	Runs []RunResult
	// Warnings are non-fatal problems worth a footnote, e.g. a pipe size
	// the kernel rounded up.
	Warnings []Warning
	// Incomplete is set when a child failed and the runs stopped early.
	Incomplete bool
	// Interrupted is set when the context was cancelled.
	Interrupted bool
	// Shared lists the other pipelab processes seen running transfers on
	// some of the same CPUs (see shared.go): the figures are then lower
	// than the machine gives one run alone.
	Shared []SharedRun
}

// RunResult is one transfer of Options.Bytes through a fresh pipe.
type RunResult struct {
	// Bytes is what the reader received.
	Bytes int64
	// Duration is the reader's time from the gate opening to its last
	// byte (for a partial run: until the runner stopped it).
	Duration time.Duration
	// GiBPerSec is Bytes / 2^30 / Duration.
	GiBPerSec float64
	// WriterPID and ReaderPID are the children's process ids.
	WriterPID, ReaderPID int
	// Verified is set when the reader checked every byte (--verify).
	Verified bool
	// FirstCorruptOffset is the stream offset of the first byte the reader
	// found wrong under --verify, or -1.
	FirstCorruptOffset int64
	// Partial is set on a run that did not finish (failure or interrupt).
	Partial bool
	// Uncounted is set when nobody could count the bytes that crossed
	// the pipe (both sides are commands, and the kernel's I/O accounting
	// of the two disagrees or cannot be read): Bytes and GiBPerSec are
	// then unknown, and 0.
	Uncounted bool
	// Writer and Reader are what each child reported (for a partial run,
	// what it reported before the gate). For an external command, only
	// what its child reported before it exec'd the command: PID, TID,
	// CPUs and PipeSizeBytes.
	Writer, Reader ChildReport
	// Commands says how each external command ended, writer first; empty
	// when both sides are pipelab's.
	Commands []result.CommandStatus
}

// GiBPerSec returns the median, minimum and maximum throughput of the
// complete runs whose bytes were counted, in GiB/s (GiB = 2^30 bytes);
// zeros if there are none.
func (r *Result) GiBPerSec() (median, min, max float64) {
	var v []float64
	for _, run := range r.Runs {
		if !run.Partial && !run.Uncounted {
			v = append(v, run.GiBPerSec)
		}
	}
	if len(v) == 0 {
		return 0, 0, 0
	}
	slices.Sort(v)
	n := len(v)
	median = v[n/2]
	if n%2 == 0 {
		median = (v[n/2-1] + v[n/2]) / 2
	}
	return median, v[0], v[n-1]
}

// Merge adds the runs of other, a Result of the same options run later
// (one transfer of an interleaved sequence, say), to r: its runs after
// r's, its warnings and shared runs once each, and Incomplete and
// Interrupted if either has them. Options.Repeat becomes the number of
// runs attempted.
func (r *Result) Merge(other *Result) {
	for _, w := range other.Warnings {
		r.Warnings = appendOnce(r.Warnings, w)
	}
	r.Runs = append(r.Runs, other.Runs...)
	r.Options.Repeat = len(r.Runs)
	r.Shared = addShared(r.Shared, other.Shared)
	r.Incomplete = r.Incomplete || other.Incomplete
	r.Interrupted = r.Interrupted || other.Interrupted
}

// Corruption is what Options.Verify found wrong in a Result: the reader got
// bytes other than the ones the writer wrote. As an error it says so in
// one line.
type Corruption struct {
	// Offsets holds, for each complete run whose reader found wrong
	// bytes, the stream offset of the first one.
	Offsets []int64
	// Runs is how many complete runs were verified.
	Runs int
}

func (c *Corruption) Error() string {
	offs := make([]string, len(c.Offsets))
	for i, o := range c.Offsets {
		offs[i] = strconv.FormatInt(o, 10)
	}
	return fmt.Sprintf("the reader got wrong bytes in %d of %d runs (first corrupt stream offset of each: %s)",
		len(c.Offsets), c.Runs, strings.Join(offs, ", "))
}

// Corruption returns what verification found wrong in r's complete runs,
// or nil when every verified byte was as written (or nothing was verified).
func (r *Result) Corruption() *Corruption {
	c := &Corruption{}
	for _, run := range r.Runs {
		if run.Partial || !run.Verified {
			continue
		}
		c.Runs++
		if run.FirstCorruptOffset >= 0 {
			c.Offsets = append(c.Offsets, run.FirstCorruptOffset)
		}
	}
	if len(c.Offsets) == 0 {
		return nil
	}
	return c
}

// gibPerSec converts bytes over d to GiB/s.
func gibPerSec(bytes int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) / (1 << 30) / d.Seconds()
}

// ChildError says which child failed and how.
type ChildError struct {
	// Role is "writer" or "reader".
	Role string
	// Command is the external command of the role (Options.WriterCmd or
	// ReaderCmd), or "" for pipelab's own child.
	Command string
	// Signal is the signal that killed the child, or 0.
	Signal syscall.Signal
	// ExitStatus is the child's non-zero exit status, or -1.
	ExitStatus int
	// Message is the child's own error line, if it gave one, or what the
	// runner saw (e.g. "was not ready after 30s").
	Message string
	// Stalled is the Timeout that expired, or 0.
	Stalled time.Duration
}

// Error renders one line naming the role first, e.g. "reader: killed by
// signal 9 (SIGKILL)", "writer: exited with status 3: <its error>",
// "reader: made no progress for 10s (Timeout)" or "writer: was not ready
// after 30s".
// An external command is named after its role: `writer command "exit 3":
// exited with status 3`.
func (e *ChildError) Error() string { return e.Format(nil) }

// Format renders the error as Error does, with the field it names (the
// Timeout that expired) called by name(field), or by its Go name when
// name is nil.
func (e *ChildError) Format(name func(field string) string) string {
	timeout := "Timeout"
	if name != nil {
		timeout = name(timeout)
	}
	who := e.Role
	if e.Command != "" {
		who = fmt.Sprintf("%s command %q", e.Role, e.Command)
	}
	switch {
	case e.Stalled > 0:
		return fmt.Sprintf("%s: made no progress for %s (%s)", who, e.Stalled, timeout)
	case e.Signal != 0:
		return fmt.Sprintf("%s: killed by signal %d (%s)", who, int(e.Signal), unix.SignalName(e.Signal))
	case e.ExitStatus >= 0 && e.Message != "":
		return fmt.Sprintf("%s: exited with status %d: %s", who, e.ExitStatus, e.Message)
	case e.ExitStatus >= 0:
		return fmt.Sprintf("%s: exited with status %d", who, e.ExitStatus)
	}
	return who + ": " + e.Message
}
