package bench

import "strings"

// Mode is one step of the post's ladder: which syscall the writer and the
// reader use, and the figure the post measured for it.
type Mode struct {
	// Name is the --mode value, e.g. "splice".
	Name string
	// Writer is the writer's syscall: "write" or "vmsplice".
	Writer string
	// Reader is the reader's syscall: "read" or "splice".
	Reader string
	// Summary is a one-line description for tables and help text.
	Summary string
	// PostGiBPerSec is the throughput the post reports for this step in
	// GiB/s; 0 means the post gives no figure.
	PostGiBPerSec float64

	huge bool // the buffers are backed by transparent huge pages
	busy bool // both ends spin on EAGAIN
}

// modes is the post's ladder, in order.
var modes = []Mode{
	{Name: "write", Writer: "write", Reader: "read", PostGiBPerSec: 3.7,
		Summary: "write(2) into the pipe, read(2) out of it"},
	{Name: "write-huge", Writer: "write", Reader: "read", huge: true,
		Summary: "write(2) from a huge-page buffer, read(2)"},
	{Name: "vmsplice", Writer: "vmsplice", Reader: "read", PostGiBPerSec: 12.7,
		Summary: "vmsplice(2) from a double buffer, read(2)"},
	{Name: "vmsplice-huge", Writer: "vmsplice", Reader: "read", huge: true,
		Summary: "vmsplice(2) from a huge-page double buffer, read(2)"},
	{Name: "splice", Writer: "vmsplice", Reader: "splice", PostGiBPerSec: 32.8,
		Summary: "vmsplice(2), splice(2) to /dev/null"},
	{Name: "huge", Writer: "vmsplice", Reader: "splice", huge: true, PostGiBPerSec: 51.0,
		Summary: "vmsplice(2) from huge pages, splice(2) to /dev/null"},
	{Name: "busy", Writer: "vmsplice", Reader: "splice", huge: true, busy: true, PostGiBPerSec: 62.5,
		Summary: "as huge, both ends spinning on EAGAIN (SPLICE_F_NONBLOCK)"},
}

// Modes returns every mode in the post's ladder order.
func Modes() []Mode {
	return append([]Mode(nil), modes...)
}

// LookupMode returns the mode called name.
func LookupMode(name string) (Mode, bool) {
	for _, m := range modes {
		if m.Name == name {
			return m, true
		}
	}
	return Mode{}, false
}

// modeNames lists the valid --mode values, comma separated.
func modeNames() string {
	names := make([]string, len(modes))
	for i, m := range modes {
		names[i] = m.Name
	}
	return strings.Join(names, ", ")
}

// plan is what a run actually does once the mode and the knobs are
// combined: the effective settings both children follow.
type plan struct {
	// Writer and Reader are the syscalls of pipelab's own sides, or
	// external for a side given as a command (Options.WriterCmd,
	// ReaderCmd).
	Writer, Reader string
	Huge, Busy     bool
	PipeSizeBytes  int // 0 keeps the kernel default
}

// planFor combines o.Mode with the knobs; o must have passed Validate.
func planFor(o Options) plan {
	m, _ := LookupMode(o.Mode)
	p := plan{Writer: m.Writer, Reader: m.Reader, Huge: m.huge || o.Huge, Busy: m.busy || o.Busy}
	if o.WriterCmd != "" {
		p.Writer = external
	}
	if o.ReaderCmd != "" {
		p.Reader = external
	}
	p.PipeSizeBytes = o.PipeSizeBytes
	if p.PipeSizeBytes == 0 && p.Writer == "vmsplice" {
		p.PipeSizeBytes = o.BufSizeBytes / 2
	}
	return p
}

// Effective returns o with the knobs its mode implies turned on, as the
// children run them: the -huge modes, huge and busy imply Huge, busy
// implies Busy, and BufOffset MallocOffset becomes 16 for small pages
// and 0 for huge ones.
func (o Options) Effective() Options {
	m, _ := LookupMode(o.Mode)
	o.Huge = o.Huge || m.huge
	o.Busy = o.Busy || m.busy
	if o.BufOffset == MallocOffset {
		o.BufOffset = mallocHeader
		if o.Huge {
			o.BufOffset = 0
		}
	}
	return o
}
