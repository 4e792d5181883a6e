package bench

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pipelab/pipelab/internal/fielderr"
)

// maxBufSizeBytes bounds BufSizeBytes; the post uses 256KiB.
const maxBufSizeBytes = 1 << 30

// OptionError is a bad combination of options: the fields of Options at
// fault (one, or PinWriter and PinReader for the pair of CPUs), their
// value, what is wrong, and what to do. Problem and Remedy spell other
// fields as {Field}. Error renders every field by its Go name; a command
// renders them by its own flag names with Format, and maps the error to
// exit status 2. bench never spells a flag of the command line.
type OptionError struct {
	Fields                 []string
	Value, Problem, Remedy string
}

// Error renders one line: "PipeSizeBytes 4MiB: above
// /proc/sys/fs/pipe-max-size (1MiB) (raise it with sysctl
// fs.pipe-max-size=4194304)".
func (e *OptionError) Error() string { return e.Format(nil) }

// Format renders the error with every field called by name(field), or by
// its Go name when name is nil.
func (e *OptionError) Format(name func(field string) string) string {
	return fielderr.Message(e.Fields, e.Value, e.Problem, e.Remedy, name)
}

// on lists the fields an *OptionError is about.
func on(fields ...string) []string { return fields }

// Validate checks o against the modes and against this machine (THP mode,
// pipe-max-size, CPUs). It returns the first problem as an *OptionError.
//
// A vmsplice writer needs a buffer of two whole-page halves (a multiple of
// 8KiB with 4KiB pages), because the post's double-buffer scheme splices
// one half while the reader drains the other, and the pipe (half the
// buffer unless PipeSizeBytes is set) must fit under pipe-max-size. Unless
// PipeSizeBytes is set, the half must be a power of two pages: the kernel
// rounds a pipe size up to one, and a pipe larger than the half lets the
// writer rewrite pages the reader has not read (the reader then gets
// wrong bytes; Verify shows it).
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
		return &OptionError{on("Mode"), o.Mode, "unknown mode", "use one of " + modeNames()}
	}
	return nil
}

func checkSizes(o Options) *OptionError {
	if o.BufSizeBytes <= 0 {
		return &OptionError{on("BufSizeBytes"), strconv.Itoa(o.BufSizeBytes), "must be positive", "e.g. 256KiB"}
	}
	if o.BufSizeBytes > maxBufSizeBytes {
		return &OptionError{on("BufSizeBytes"), FormatSize(int64(o.BufSizeBytes)), "too large", "use at most 1GiB"}
	}
	if o.Bytes <= 0 {
		return &OptionError{on("Bytes"), strconv.FormatInt(o.Bytes, 10), "must be positive", "e.g. 10GiB"}
	}
	m := planFor(o)
	if m.Writer == "vmsplice" && o.BufSizeBytes%(2*pageSize) != 0 {
		return &OptionError{on("BufSizeBytes"), FormatSize(int64(o.BufSizeBytes)),
			fmt.Sprintf("vmsplice's double buffer needs two halves of whole %s pages", FormatSize(int64(pageSize))),
			fmt.Sprintf("use a multiple of %s, e.g. 256KiB", FormatSize(int64(2*pageSize)))}
	}
	if half := o.BufSizeBytes / 2; m.Writer == "vmsplice" && o.PipeSizeBytes == 0 && half&(half-1) != 0 {
		return &OptionError{on("BufSizeBytes"), FormatSize(int64(o.BufSizeBytes)),
			fmt.Sprintf("vmsplice's double buffer needs a pipe of exactly half the buffer, and the kernel rounds %s up to a power of two pages, so the writer would rewrite pages still in the pipe",
				FormatSize(int64(half))),
			"use a power of two, e.g. 256KiB"}
	}
	return nil
}

func checkPipeSize(o Options) *OptionError {
	if o.PipeSizeBytes < 0 {
		return &OptionError{on("PipeSizeBytes"), strconv.Itoa(o.PipeSizeBytes), "must be positive", "e.g. 1MiB, or leave it out"}
	}
	p := planFor(o)
	if p.PipeSizeBytes == 0 {
		return nil
	}
	fields, value := on("PipeSizeBytes"), FormatSize(int64(p.PipeSizeBytes))
	if o.PipeSizeBytes == 0 {
		fields, value = on("BufSizeBytes"), FormatSize(int64(o.BufSizeBytes))
	}
	if p.PipeSizeBytes < pageSize {
		return &OptionError{fields, value, fmt.Sprintf("pipe size below the page size (%s)", FormatSize(int64(pageSize))),
			"use at least " + FormatSize(int64(pageSize))}
	}
	max, err := PipeMaxSize()
	if err != nil {
		return &OptionError{fields, value, fielderr.Escape(err.Error()), "leave {PipeSizeBytes} out"}
	}
	if p.PipeSizeBytes > max {
		problem := fmt.Sprintf("above %s (%s)", pipeMaxSizePath, FormatSize(int64(max)))
		if o.PipeSizeBytes == 0 {
			problem = fmt.Sprintf("vmsplice's double buffer needs a pipe of half the buffer (%s), %s",
				FormatSize(int64(p.PipeSizeBytes)), problem)
		}
		return &OptionError{fields, value, problem,
			fmt.Sprintf("raise it with sysctl fs.pipe-max-size=%d", p.PipeSizeBytes)}
	}
	return nil
}

func checkPin(o Options) *OptionError {
	value := fmt.Sprintf("%d,%d", o.PinWriter, o.PinReader)
	if o.PinWriter < -1 || o.PinReader < -1 {
		return &OptionError{on("PinWriter", "PinReader"), value, "CPU numbers must be 0 or more", "give W,R such as 0,1, or -1 to leave a role unpinned"}
	}
	if o.PinWriter == -1 && o.PinReader == -1 {
		return nil
	}
	cpus, err := AllowedCPUs()
	if err != nil {
		return &OptionError{on("PinWriter", "PinReader"), value, fielderr.Escape(err.Error()), "use -1,-1 to leave both roles unpinned"}
	}
	for _, c := range []int{o.PinWriter, o.PinReader} {
		if c != -1 && !contains(cpus, c) {
			return &OptionError{on("PinWriter", "PinReader"), value, fmt.Sprintf("CPU %d is not available to this process", c),
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
		return &OptionError{on("Repeat"), strconv.Itoa(o.Repeat), "must be at least 1", "e.g. 5"}
	}
	if o.Timeout < 0 {
		return &OptionError{on("Timeout"), o.Timeout.String(), "must not be negative", "e.g. 10s, or 0 for none"}
	}
	return nil
}

func checkHugeKnobs(o Options) *OptionError {
	p := planFor(o)
	if !p.Huge {
		if o.CheckHuge {
			return &OptionError{on("CheckHuge"), "", "needs a huge-page buffer", "add {Huge} or use a -huge mode"}
		}
		return nil
	}
	fields, value := on("Huge"), ""
	switch {
	case o.CheckHuge:
		fields = on("CheckHuge")
	case !o.Huge:
		fields, value = on("Mode"), o.Mode
	}
	mode, err := THPMode()
	if err != nil {
		return &OptionError{fields, value, fielderr.Escape(err.Error()), "use a mode without huge pages"}
	}
	if mode == "never" {
		return &OptionError{fields, value, "transparent huge pages are off (" + thpEnabledPath + " is never)",
			"echo madvise > " + thpEnabledPath}
	}
	if o.CheckHuge && o.DontTouchPages {
		return &OptionError{on("CheckHuge"), "", "cannot check pages that {DontTouchPages} leaves unfaulted", "drop one of the two"}
	}
	return nil
}

func checkBufOffset(o Options) *OptionError {
	if o.BufOffset < MallocOffset || o.BufOffset >= pageSize {
		return &OptionError{on("BufOffset"), strconv.Itoa(o.BufOffset), fmt.Sprintf("must be 0 to %d bytes past a page boundary", pageSize-1),
			"e.g. 0 for page-aligned buffers; leave it out for where the post's programs put them"}
	}
	return nil
}

func checkKnobCombinations(o Options) *OptionError {
	p := planFor(o)
	switch {
	case p.Busy && o.Poll:
		return &OptionError{on("Poll"), "", "contradicts busy looping ({Busy} or mode busy)", "drop {Poll} or {Busy}"}
	case o.Gift && p.Writer != "vmsplice" && p.Reader != "splice":
		return &OptionError{on("Gift"), "", "needs a vmsplice writer or a splice reader", "use mode vmsplice, splice, huge or busy"}
	case o.SameBuffer && p.Writer != "vmsplice":
		return &OptionError{on("SameBuffer"), "", "needs a vmsplice writer", "use mode vmsplice, splice, huge or busy"}
	}
	return nil
}

func checkVerify(o Options) *OptionError {
	p := planFor(o)
	switch {
	case o.Verify && p.Reader != "read":
		return &OptionError{on("Verify"), "", "needs a read(2) reader that sees the bytes", "use mode write, write-huge, vmsplice or vmsplice-huge"}
	case o.Verify && o.DontTouchPages:
		return &OptionError{on("DontTouchPages"), "", "contradicts {Verify}, which writes every page", "drop one of the two"}
	case o.Verify && o.SameBuffer:
		return &OptionError{on("SameBuffer"), "", "contradicts {Verify}, which needs each block's own content", "drop one of the two"}
	case o.RewriteAfterSplice && (!o.Verify || p.Writer != "vmsplice"):
		return &OptionError{on("RewriteAfterSplice"), "", "needs {Verify} and a vmsplice writer", "add {Verify} and use mode vmsplice or vmsplice-huge"}
	case o.RewriteAfterSplice && o.Gift:
		return &OptionError{on("RewriteAfterSplice"), "", "tests reuse without SPLICE_F_GIFT", "drop {Gift}"}
	}
	return nil
}
