package bench

import (
	"errors"
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
		checkTransport, checkRing, checkConsume, checkDram,
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
	case o.Verify && p.Reader == "splice":
		return &OptionError{on("Verify"), "", say("needs a reader that takes the bytes into its memory, and a splice reader passes them to /dev/null unseen"),
			say("add ", field("Consume"), ", which makes it read them, or use a mode with a read(2) or copying reader")}
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

// checkTransport refuses the knobs of a pipe on the modes without one,
// and the knobs that need a file descriptor on the ring and copy modes.
func checkTransport(o Options) *OptionError {
	p := planFor(o)
	if p.Transport == pipeTransport {
		return nil
	}
	m, _ := LookupMode(o.Mode)
	none := "mode " + o.Mode + " has none (" + m.Summary + ")"
	pipeModes := "use a pipe mode: " + strings.Join(transportModes(pipeTransport), ", ")
	switch {
	case o.PipeSizeBytes != 0:
		return &OptionError{on("PipeSizeBytes"), FormatSize(int64(o.PipeSizeBytes)), say("sizes a pipe, and ", none), say("drop it, or ", pipeModes)}
	case o.WriterCmd != "" || o.ReaderCmd != "":
		f := "WriterCmd"
		if o.WriterCmd == "" {
			f = "ReaderCmd"
		}
		return &OptionError{on(f), "", say("puts a command on one end of a pipe, and ", none), say(pipeModes)}
	case p.Transport == socketTransport:
		return nil
	case o.Poll:
		return &OptionError{on("Poll"), "", say("polls a file descriptor, and mode ", o.Mode, " has none to poll (", m.Summary, ")"), say("drop it")}
	case o.Busy && p.Transport == memoryTransport:
		return &OptionError{on("Busy"), "", say("spins while the other side is not ready, and in mode ", o.Mode, " the reader never waits (", m.Summary, ")"), say("drop it")}
	}
	return nil
}

// transportModes lists the modes of one transport.
func transportModes(transport string) []string {
	var names []string
	for _, m := range modes {
		if m.Transport == transport {
			names = append(names, m.Name)
		}
	}
	return names
}

// checkRing checks the ring's knobs: a size that is a power of two and
// holds two buffers, and streaming stores.
func checkRing(o Options) *OptionError {
	p := planFor(o)
	ringModes := "use mode " + strings.Join(transportModes(ringTransport), " or ")
	if p.Transport != ringTransport {
		switch {
		case o.RingSizeBytes != 0:
			return &OptionError{on("RingSizeBytes"), FormatSize(int64(o.RingSizeBytes)), say("sizes the shared-memory ring, and mode ", o.Mode, " has none"), say("drop it, or ", ringModes)}
		case o.Streaming:
			return &OptionError{on("Streaming"), "", say("is how the ring's writer stores into the ring, and mode ", o.Mode, " has none"), say("drop it, or ", ringModes)}
		}
		return nil
	}
	least := leastRingSize(o.BufSizeBytes)
	if least == 0 {
		return &OptionError{on("BufSizeBytes"), FormatSize(int64(o.BufSizeBytes)),
			say("the ring holds two buffers, and at most ", FormatSize(maxRingSizeBytes)),
			say("use at most ", FormatSize(maxRingSizeBytes/2))}
	}
	size := o.RingSizeBytes
	if size == 0 {
		return nil // ringSize picks one
	}
	value := FormatSize(int64(size))
	if size < 0 {
		value = strconv.Itoa(size)
	}
	switch {
	case size <= 0 || size&(size-1) != 0:
		return &OptionError{on("RingSizeBytes"), value, say("must be a power of two (the ring's indices wrap with a mask)"),
			say("e.g. ", FormatSize(int64(least)), ", the least that holds two ", FormatSize(int64(o.BufSizeBytes)), " buffers")}
	case size < 2*o.BufSizeBytes:
		return &OptionError{on("RingSizeBytes"), value,
			say("must hold two buffers of ", field("BufSizeBytes"), " ", FormatSize(int64(o.BufSizeBytes)), ", at least ", FormatSize(int64(2*o.BufSizeBytes)),
				" (the writer fills one while the reader empties the other)"),
			say("use ", FormatSize(int64(least)), " or more, or a smaller buffer")}
	case size > maxRingSizeBytes:
		return &OptionError{on("RingSizeBytes"), value, say("too large"), say("use at most ", FormatSize(maxRingSizeBytes))}
	}
	return nil
}

// checkConsume refuses Consume where pipelab has no reader to consume.
func checkConsume(o Options) *OptionError {
	if o.Consume && o.ReaderCmd != "" {
		return &OptionError{on("Consume"), "", say("makes pipelab's reader use every byte, and ", field("ReaderCmd"), " replaces it"), say("drop one of the two")}
	}
	return nil
}

// checkDram refuses copy-dram where the machine cannot spare its source.
func checkDram(o Options) *OptionError {
	if !planFor(o).Dram {
		return nil
	}
	var ue *UnsupportedError
	if err := dramSupported(); errors.As(err, &ue) {
		return &OptionError{on("Mode"), o.Mode, say("needs ", ue.Needs, ", ", ue.Why), say(ue.Remedy)}
	}
	return nil
}
