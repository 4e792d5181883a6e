package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Watch observes two processes that already run, a writer and a reader
// that pipelab did not start, for d: obs attaches to them, starts, and
// stops when d has passed, when either process exits (the window then ends
// early, with a warning that says so) or when ctx is cancelled. Nothing is
// gated, so what obs sees begins mid-stream; threads the processes create
// during the window are the observer's to find.
//
// Nobody on the pipe counts bytes: the result's one run takes them from
// the kernel's I/O accounting of both processes over the window, as for
// two external commands (see ioCounts), and only when the writer's wchar
// and the reader's rchar agree. A pid that does not exist, or the same
// pid twice, is an *OptionError.
func Watch(ctx context.Context, writer, reader int, d time.Duration, obs Observer) (*Result, error) {
	if err := CheckWatch(writer, reader, d); err != nil {
		return nil, err
	}
	w, r, err := openPidfds(writer, reader)
	if err != nil {
		return nil, err
	}
	defer unix.Close(w)
	defer unix.Close(r)
	res := &Result{Options: Options{Repeat: 1}}
	if err := obs.Attach(writer, reader); err != nil {
		obs.Stop()
		return nil, fmt.Errorf("observer attach: %w", err)
	}
	wBase, rBase := readIO(writer), readIO(reader)
	if err := obs.Start(); err != nil {
		obs.Stop()
		return nil, fmt.Errorf("observer start: %w", err)
	}
	start := time.Now()
	note, interrupted := waitWindow(ctx, w, r, writer, reader, d)
	wEnd, rEnd := readIO(writer), readIO(reader)
	dur := time.Since(start)
	stopErr := obs.Stop()
	run := RunResult{WriterPID: writer, ReaderPID: reader, Duration: dur, FirstCorruptOffset: -1, Partial: interrupted}
	if note != "" {
		res.Warnings = append(res.Warnings, warnf("%s", note))
	}
	var counted bool
	run.Bytes, counted, res.Warnings = watchedBytes(wEnd.since(wBase), rEnd.since(rBase), res.Warnings)
	run.Uncounted = !counted
	run.GiBPerSec = gibPerSec(run.Bytes, dur)
	res.Runs = []RunResult{run}
	res.Options.Bytes = run.Bytes
	switch {
	case interrupted:
		res.Interrupted = true
		return res, fmt.Errorf("%w: %v", ErrInterrupted, context.Cause(ctx))
	case stopErr != nil:
		return res, fmt.Errorf("observer stop: %w", stopErr)
	}
	return res, nil
}

// CheckWatch refuses a window without a duration and pids that cannot
// be watched, with an *OptionError whose fields are Watch's parameters:
// Writer and Reader (the pids), Duration (d).
func CheckWatch(writer, reader int, d time.Duration) error {
	value := fmt.Sprintf("%d,%d", writer, reader)
	switch {
	case d <= 0:
		return &OptionError{on("Writer", "Reader"), value, say("needs ", field("Duration"), ", the window to watch the two processes for"), say("add e.g. ", field("Duration"), " 10s")}
	case writer == reader:
		return &OptionError{on("Writer", "Reader"), value, say("names one process twice"), say("give the writer's pid, then the reader's")}
	}
	for _, pid := range []int{writer, reader} {
		if pid <= 0 {
			return &OptionError{on("Writer", "Reader"), value, say("pids must be positive"), say("give W,R such as 4242,4243")}
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
			return &OptionError{on("Writer", "Reader"), value, say(fmt.Sprintf("no process %d (it has exited, or never ran)", pid)), say("give the pids of two running processes")}
		}
		if zombie(pid) {
			return &OptionError{on("Writer", "Reader"), value, say(fmt.Sprintf("process %d has exited (a zombie its parent has not reaped)", pid)), say("give the pids of two running processes")}
		}
	}
	return nil
}

// zombie reports whether pid's state in /proc/PID/stat is Z.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] == "Z"
}

// openPidfds opens a pidfd on each process (Linux 5.3+), which polls
// readable once the process exits.
func openPidfds(writer, reader int) (int, int, error) {
	w, err := unix.PidfdOpen(writer, 0)
	if err != nil {
		return -1, -1, fmt.Errorf("pidfd_open %d: %w", writer, err)
	}
	r, err := unix.PidfdOpen(reader, 0)
	if err != nil {
		unix.Close(w)
		return -1, -1, fmt.Errorf("pidfd_open %d: %w", reader, err)
	}
	return w, r, nil
}

// waitWindow waits for d, for either process to exit, or for ctx. It
// returns a note when a process ended the window, and whether ctx did.
func waitWindow(ctx context.Context, wfd, rfd, writer, reader int, d time.Duration) (note string, interrupted bool) {
	deadline := time.Now().Add(d)
	fds := []unix.PollFd{{Fd: int32(wfd), Events: unix.POLLIN}, {Fd: int32(rfd), Events: unix.POLLIN}}
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return "", false
		}
		if ctx.Err() != nil {
			return "", true
		}
		n, err := unix.Poll(fds, int(min(left, tick).Milliseconds())+1)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return "", false
		}
		if n > 0 {
			var gone []string
			for i, role := range []string{"writer", "reader"} {
				if fds[i].Revents != 0 {
					gone = append(gone, fmt.Sprintf("the %s (pid %d)", role, []int{writer, reader}[i]))
				}
			}
			return fmt.Sprintf("%s exited %s into the %s window, which ended there", strings.Join(gone, " and "),
				(d - time.Until(deadline)).Round(time.Millisecond), d), false
		}
	}
}

// watchedBytes is countedBytes for two watched processes.
func watchedBytes(w, r ioCounts, warnings []Warning) (int64, bool, []Warning) {
	if !w.ok || !r.ok {
		return 0, false, append(warnings, warn("the processes' /proc/PID/io could not be read (or one exited): the bytes that crossed the pipe are unknown, and so is the throughput"))
	}
	diff := w.wchar - r.rchar
	if diff < 0 {
		diff = -diff
	}
	if diff > 1<<20+max(w.wchar, r.rchar)/100 {
		return 0, false, append(warnings, warnf("the processes' I/O accounting disagrees over the window (writer wrote %d bytes, reader read %d, counting read/write/sendfile on any file and no splice or vmsplice): the bytes that crossed the pipe cannot be counted honestly, so no throughput is given", w.wchar, r.rchar))
	}
	return min(w.wchar, r.rchar), true, append(warnings, warn("attached: bytes are the smaller of the writer's wchar and the reader's rchar over the window (/proc/PID/io: read/write/sendfile family, no splice or vmsplice; they agree within 1%)"))
}
