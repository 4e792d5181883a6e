package bench

import (
	"fmt"
	"strconv"
	"strings"
)

// maxBufSizeBytes bounds --buf-size; the post uses 256KiB.
const maxBufSizeBytes = 1 << 30

// OptionError is a bad combination of options: the flag at fault, its
// value, what is wrong, and what to do. The command maps it to exit
// status 2.
type OptionError struct {
	Flag, Value, Problem, Remedy string
}

// Error renders one line: "--pipe-size 4MiB: above
// /proc/sys/fs/pipe-max-size (1MiB) (raise it with sysctl
// fs.pipe-max-size=4194304)".
func (e *OptionError) Error() string {
	s := e.Flag
	if e.Value != "" {
		s += " " + e.Value
	}
	s += ": " + e.Problem
	if e.Remedy != "" {
		s += " (" + e.Remedy + ")"
	}
	return s
}

// Validate checks o against the modes and against this machine (THP mode,
// pipe-max-size, CPUs). It returns the first problem as an *OptionError.
//
// A vmsplice writer needs a buffer of two whole-page halves (a multiple of
// 8KiB with 4KiB pages), because the post's double-buffer scheme splices
// one half while the reader drains the other, and the pipe (half the
// buffer unless --pipe-size is given) must fit under pipe-max-size. Unless
// --pipe-size is given, the half must be a power of two pages: the kernel
// rounds a pipe size up to one, and a pipe larger than the half lets the
// writer rewrite pages the reader has not read (the reader then gets
// wrong bytes; --verify shows it).
func (o Options) Validate() error {
	checks := []func(Options) *OptionError{
		checkMode, checkCommands, checkSizes, checkPipeSize, checkPin, checkRepeat,
		checkHugeKnobs, checkBufOffset, checkKnobCombinations, checkVerify,
	}
	for _, check := range checks {
		if err := check(o); err != nil {
			return err
		}
	}
	return nil
}

func checkMode(o Options) *OptionError {
	if _, ok := LookupMode(o.Mode); !ok {
		return &OptionError{"--mode", o.Mode, "unknown mode", "use one of " + modeNames()}
	}
	return nil
}

func checkSizes(o Options) *OptionError {
	if o.BufSizeBytes <= 0 {
		return &OptionError{"--buf-size", strconv.Itoa(o.BufSizeBytes), "must be positive", "e.g. 256KiB"}
	}
	if o.BufSizeBytes > maxBufSizeBytes {
		return &OptionError{"--buf-size", FormatSize(int64(o.BufSizeBytes)), "too large", "use at most 1GiB"}
	}
	if o.Bytes <= 0 {
		return &OptionError{"--bytes", strconv.FormatInt(o.Bytes, 10), "must be positive", "e.g. 10GiB"}
	}
	m := planFor(o)
	if m.Writer == "vmsplice" && o.BufSizeBytes%(2*pageSize) != 0 {
		return &OptionError{"--buf-size", FormatSize(int64(o.BufSizeBytes)),
			fmt.Sprintf("vmsplice's double buffer needs two halves of whole %s pages", FormatSize(int64(pageSize))),
			fmt.Sprintf("use a multiple of %s, e.g. 256KiB", FormatSize(int64(2*pageSize)))}
	}
	if half := o.BufSizeBytes / 2; m.Writer == "vmsplice" && o.PipeSizeBytes == 0 && half&(half-1) != 0 {
		return &OptionError{"--buf-size", FormatSize(int64(o.BufSizeBytes)),
			fmt.Sprintf("vmsplice's double buffer needs a pipe of exactly half the buffer, and the kernel rounds %s up to a power of two pages, so the writer would rewrite pages still in the pipe",
				FormatSize(int64(half))),
			"use a power of two, e.g. 256KiB"}
	}
	return nil
}

func checkPipeSize(o Options) *OptionError {
	if o.PipeSizeBytes < 0 {
		return &OptionError{"--pipe-size", strconv.Itoa(o.PipeSizeBytes), "must be positive", "e.g. 1MiB, or leave it out"}
	}
	p := planFor(o)
	if p.PipeSizeBytes == 0 {
		return nil
	}
	flag, value := "--pipe-size", FormatSize(int64(p.PipeSizeBytes))
	if o.PipeSizeBytes == 0 {
		flag, value = "--buf-size", FormatSize(int64(o.BufSizeBytes))
	}
	if p.PipeSizeBytes < pageSize {
		return &OptionError{flag, value, fmt.Sprintf("pipe size below the page size (%s)", FormatSize(int64(pageSize))),
			"use at least " + FormatSize(int64(pageSize))}
	}
	max, err := PipeMaxSize()
	if err != nil {
		return &OptionError{flag, value, err.Error(), "leave --pipe-size out"}
	}
	if p.PipeSizeBytes > max {
		problem := fmt.Sprintf("above %s (%s)", pipeMaxSizePath, FormatSize(int64(max)))
		if o.PipeSizeBytes == 0 {
			problem = fmt.Sprintf("vmsplice's double buffer needs a pipe of half the buffer (%s), %s",
				FormatSize(int64(p.PipeSizeBytes)), problem)
		}
		return &OptionError{flag, value, problem,
			fmt.Sprintf("raise it with sysctl fs.pipe-max-size=%d", p.PipeSizeBytes)}
	}
	return nil
}

func checkPin(o Options) *OptionError {
	value := fmt.Sprintf("%d,%d", o.PinWriter, o.PinReader)
	if o.PinWriter < -1 || o.PinReader < -1 {
		return &OptionError{"--pin", value, "CPU numbers must be 0 or more", "give W,R such as 0,1, or -1 to leave a role unpinned"}
	}
	if o.PinWriter == -1 && o.PinReader == -1 {
		return nil
	}
	cpus, err := OnlineCPUs()
	if err != nil {
		return &OptionError{"--pin", value, err.Error(), "use -1,-1 to leave both roles unpinned"}
	}
	for _, c := range []int{o.PinWriter, o.PinReader} {
		if c != -1 && !contains(cpus, c) {
			return &OptionError{"--pin", value, fmt.Sprintf("CPU %d is not available to this process", c),
				"use CPUs from " + joinInts(cpus)}
		}
	}
	return nil
}

func joinInts(list []int) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

func checkRepeat(o Options) *OptionError {
	if o.Repeat < 1 {
		return &OptionError{"--repeat", strconv.Itoa(o.Repeat), "must be at least 1", "e.g. 5"}
	}
	if o.Timeout < 0 {
		return &OptionError{"--timeout", o.Timeout.String(), "must not be negative", "e.g. 10s, or 0 for none"}
	}
	return nil
}

func checkHugeKnobs(o Options) *OptionError {
	p := planFor(o)
	if !p.Huge {
		if o.CheckHuge {
			return &OptionError{"--check-huge", "", "needs a huge-page buffer", "add --huge or use a -huge mode"}
		}
		return nil
	}
	flag := "--huge"
	switch {
	case o.CheckHuge:
		flag = "--check-huge"
	case !o.Huge:
		flag = "--mode " + o.Mode
	}
	mode, err := THPMode()
	if err != nil {
		return &OptionError{flag, "", err.Error(), "use a mode without huge pages"}
	}
	if mode == "never" {
		return &OptionError{flag, "", "transparent huge pages are off (" + thpEnabledPath + " is never)",
			"echo madvise > " + thpEnabledPath}
	}
	if o.CheckHuge && o.DontTouchPages {
		return &OptionError{"--check-huge", "", "cannot check pages that --dont-touch-pages leaves unfaulted", "drop one of the two"}
	}
	return nil
}

func checkBufOffset(o Options) *OptionError {
	if o.BufOffset < MallocOffset || o.BufOffset >= pageSize {
		return &OptionError{"--buf-offset", strconv.Itoa(o.BufOffset), fmt.Sprintf("must be 0 to %d bytes past a page boundary", pageSize-1),
			"e.g. 0 for page-aligned buffers; leave it out for where the post's programs put them"}
	}
	return nil
}

func checkKnobCombinations(o Options) *OptionError {
	p := planFor(o)
	switch {
	case p.Busy && o.Poll:
		return &OptionError{"--poll", "", "contradicts busy looping (--busy or mode busy)", "drop --poll or --busy"}
	case o.Gift && p.Writer != "vmsplice" && p.Reader != "splice":
		return &OptionError{"--gift", "", "needs a vmsplice writer or a splice reader", "use mode vmsplice, splice, huge or busy"}
	case o.SameBuffer && p.Writer != "vmsplice":
		return &OptionError{"--same-buffer", "", "needs a vmsplice writer", "use mode vmsplice, splice, huge or busy"}
	}
	return nil
}

func checkVerify(o Options) *OptionError {
	p := planFor(o)
	switch {
	case o.Verify && p.Reader != "read":
		return &OptionError{"--verify", "", "needs a read(2) reader that sees the bytes", "use mode write, write-huge, vmsplice or vmsplice-huge"}
	case o.Verify && o.DontTouchPages:
		return &OptionError{"--dont-touch-pages", "", "contradicts --verify, which writes every page", "drop one of the two"}
	case o.Verify && o.SameBuffer:
		return &OptionError{"--same-buffer", "", "contradicts --verify, which needs each block's own content", "drop one of the two"}
	case o.RewriteAfterSplice && (!o.Verify || p.Writer != "vmsplice"):
		return &OptionError{"--rewrite-after-splice", "", "needs --verify and a vmsplice writer", "add --verify and use mode vmsplice or vmsplice-huge"}
	case o.RewriteAfterSplice && o.Gift:
		return &OptionError{"--rewrite-after-splice", "", "tests reuse without SPLICE_F_GIFT", "drop --gift"}
	}
	return nil
}
