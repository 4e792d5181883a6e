package bench

import (
	"fmt"
	"strconv"
	"strings"
)

// maxBufSizeBytes bounds BufSizeBytes; the post uses 256KiB.
const maxBufSizeBytes = 1 << 30

// OptionError is a bad combination of options: the fields of Options at
// fault (one, or PinWriter and PinReader for the pair of CPUs), their
// value, what is wrong, and what to do, in Messages that name any other
// field they mention as a field. Error renders every field by its Go
// name; a command renders them by its own flag names with Format, and maps
// the error to exit status 2. bench never spells a flag of the command
// line.
type OptionError struct {
	Fields          []string
	Value           string
	Problem, Remedy Message
}

// Error renders one line: "PipeSizeBytes 4MiB: above
// /proc/sys/fs/pipe-max-size (1MiB) (raise it with sysctl
// fs.pipe-max-size=4194304)".
func (e *OptionError) Error() string { return e.Format(nil) }

// Format renders the error with every field called by name(field), or by
// its Go name when name is nil.
// Fields that name alike (PinWriter and PinReader, both set by one flag)
// are named once; the others are listed with commas. The value and its
// space are left out when empty, the remedy and its parentheses too.
func (e *OptionError) Format(name func(field string) string) string {
	if name == nil {
		name = func(field string) string { return field }
	}
	var names []string
	for _, f := range e.Fields {
		if n := name(f); len(names) == 0 || names[len(names)-1] != n {
			names = append(names, n)
		}
	}
	s := strings.Join(names, ",")
	if e.Value != "" {
		s += " " + e.Value
	}
	s += ": " + e.Problem.Format(name)
	if r := e.Remedy.Format(name); r != "" {
		s += " (" + r + ")"
	}
	return s
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
		return &OptionError{on("Mode"), o.Mode, say("unknown mode"), say("use one of ", modeNames())}
	}
	return nil
}

func checkSizes(o Options) *OptionError {
	if o.BufSizeBytes <= 0 {
		return &OptionError{on("BufSizeBytes"), strconv.Itoa(o.BufSizeBytes), say("must be positive"), say("e.g. 256KiB")}
	}
	if o.BufSizeBytes > maxBufSizeBytes {
		return &OptionError{on("BufSizeBytes"), FormatSize(int64(o.BufSizeBytes)), say("too large"), say("use at most 1GiB")}
	}
	if o.Bytes <= 0 {
		return &OptionError{on("Bytes"), strconv.FormatInt(o.Bytes, 10), say("must be positive"), say("e.g. 10GiB")}
	}
	m := planFor(o)
	if m.Writer == "vmsplice" && o.BufSizeBytes%(2*pageSize) != 0 {
		return &OptionError{on("BufSizeBytes"), FormatSize(int64(o.BufSizeBytes)),
			say(fmt.Sprintf("vmsplice's double buffer needs two halves of whole %s pages", FormatSize(int64(pageSize)))),
			say(fmt.Sprintf("use a multiple of %s, e.g. 256KiB", FormatSize(int64(2*pageSize))))}
	}
	if half := o.BufSizeBytes / 2; m.Writer == "vmsplice" && o.PipeSizeBytes == 0 && half&(half-1) != 0 {
		return &OptionError{on("BufSizeBytes"), FormatSize(int64(o.BufSizeBytes)),
			say(fmt.Sprintf("vmsplice's double buffer needs a pipe of exactly half the buffer, and the kernel rounds %s up to a power of two pages, so the writer would rewrite pages still in the pipe",
				FormatSize(int64(half)))),
			say("use a power of two, e.g. 256KiB")}
	}
	return nil
}

func checkPipeSize(o Options) *OptionError {
	if o.PipeSizeBytes < 0 {
		return &OptionError{on("PipeSizeBytes"), strconv.Itoa(o.PipeSizeBytes), say("must be positive"), say("e.g. 1MiB, or leave it out")}
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
		return &OptionError{fields, value, say(fmt.Sprintf("pipe size below the page size (%s)", FormatSize(int64(pageSize)))),
			say("use at least ", FormatSize(int64(pageSize)))}
	}
	max, err := PipeMaxSize()
	if err != nil {
		return &OptionError{fields, value, say(err), say("leave ", field("PipeSizeBytes"), " out")}
	}
	if p.PipeSizeBytes > max {
		problem := fmt.Sprintf("above %s (%s)", pipeMaxSizePath, FormatSize(int64(max)))
		if o.PipeSizeBytes == 0 {
			problem = fmt.Sprintf("vmsplice's double buffer needs a pipe of half the buffer (%s), %s",
				FormatSize(int64(p.PipeSizeBytes)), problem)
		}
		return &OptionError{fields, value, say(problem),
			say(fmt.Sprintf("raise it with sysctl fs.pipe-max-size=%d", p.PipeSizeBytes))}
	}
	return nil
}

func checkPin(o Options) *OptionError {
	value := fmt.Sprintf("%d,%d", o.PinWriter, o.PinReader)
	if o.PinWriter < -1 || o.PinReader < -1 {
		return &OptionError{on("PinWriter", "PinReader"), value, say("CPU numbers must be 0 or more"), say("give W,R such as 0,1, or -1 to leave a role unpinned")}
	}
	if o.PinWriter == -1 && o.PinReader == -1 {
		return nil
	}
	cpus, err := AllowedCPUs()
	if err != nil {
		return &OptionError{on("PinWriter", "PinReader"), value, say(err), say("use -1,-1 to leave both roles unpinned")}
	}
	for _, c := range []int{o.PinWriter, o.PinReader} {
		if c != -1 && !contains(cpus, c) {
			return &OptionError{on("PinWriter", "PinReader"), value, say(fmt.Sprintf("CPU %d is not available to this process", c)),
				say("use CPUs from ", joinInts(cpus))}
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
		return &OptionError{on("Repeat"), strconv.Itoa(o.Repeat), say("must be at least 1"), say("e.g. 5")}
	}
	if o.Timeout < 0 {
		return &OptionError{on("Timeout"), o.Timeout.String(), say("must not be negative"), say("e.g. 10s, or 0 for none")}
	}
	return nil
}

func checkHugeKnobs(o Options) *OptionError {
	p := planFor(o)
	if !p.Huge {
		if o.CheckHuge {
			return &OptionError{on("CheckHuge"), "", say("needs a huge-page buffer"), say("add ", field("Huge"), " or use a -huge mode")}
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
		return &OptionError{fields, value, say(err), say("use a mode without huge pages")}
	}
	if mode == "never" {
		return &OptionError{fields, value, say("transparent huge pages are off (", thpEnabledPath, " is never)"),
			say("echo madvise > ", thpEnabledPath)}
	}
	if o.CheckHuge && o.DontTouchPages {
		return &OptionError{on("CheckHuge"), "", say("cannot check pages that ", field("DontTouchPages"), " leaves unfaulted"), say("drop one of the two")}
	}
	return nil
}

func checkBufOffset(o Options) *OptionError {
	if o.BufOffset < MallocOffset || o.BufOffset >= pageSize {
		return &OptionError{on("BufOffset"), strconv.Itoa(o.BufOffset), say(fmt.Sprintf("must be 0 to %d bytes past a page boundary", pageSize-1)),
			say("e.g. 0 for page-aligned buffers; leave it out for where the post's programs put them")}
	}
	return nil
}

func checkKnobCombinations(o Options) *OptionError {
	p := planFor(o)
	switch {
	case p.Busy && o.Poll:
		return &OptionError{on("Poll"), "", say("contradicts busy looping (", field("Busy"), " or mode busy)"), say("drop ", field("Poll"), " or ", field("Busy"))}
	case o.Gift && p.Writer != "vmsplice" && p.Reader != "splice":
		return &OptionError{on("Gift"), "", say("needs a vmsplice writer or a splice reader"), say("use mode vmsplice, splice, huge or busy")}
	case o.SameBuffer && p.Writer != "vmsplice":
		return &OptionError{on("SameBuffer"), "", say("needs a vmsplice writer"), say("use mode vmsplice, splice, huge or busy")}
	}
	return nil
}

func checkVerify(o Options) *OptionError {
	p := planFor(o)
	switch {
	case o.Verify && p.Reader != "read":
		return &OptionError{on("Verify"), "", say("needs a read(2) reader that sees the bytes"), say("use mode write, write-huge, vmsplice or vmsplice-huge")}
	case o.Verify && o.DontTouchPages:
		return &OptionError{on("DontTouchPages"), "", say("contradicts ", field("Verify"), ", which writes every page"), say("drop one of the two")}
	case o.Verify && o.SameBuffer:
		return &OptionError{on("SameBuffer"), "", say("contradicts ", field("Verify"), ", which needs each block's own content"), say("drop one of the two")}
	case o.RewriteAfterSplice && (!o.Verify || p.Writer != "vmsplice"):
		return &OptionError{on("RewriteAfterSplice"), "", say("needs ", field("Verify"), " and a vmsplice writer"), say("add ", field("Verify"), " and use mode vmsplice or vmsplice-huge")}
	case o.RewriteAfterSplice && o.Gift:
		return &OptionError{on("RewriteAfterSplice"), "", say("tests reuse without SPLICE_F_GIFT"), say("drop ", field("Gift"))}
	}
	return nil
}
