package bench

import "strings"

// Mode is one step of the post's ladder, or one of the ceilings beside
// it: how the bytes go from the writer to the reader (Transport), what
// each side does to move them, and the figure the post measured for it.
type Mode struct {
	// Name is the --mode value, e.g. "splice".
	Name string
	// Transport is what joins the writer and the reader: "pipe" (pipe(2)),
	// "socket" (an AF_UNIX stream socketpair(2)), "ring" (a memfd both map,
	// a single-producer single-consumer ring; ring.go) or "memory" (no
	// transport: the reader copies bytes the writer laid out in a memfd
	// before the start; copy.go).
	Transport string
	// Writer is the writer's means: "write" or "vmsplice" (syscalls),
	// "copy" (memmove into the ring) or "fill" (lays the bytes out once).
	Writer string
	// Reader is the reader's means: "read" or "splice" (syscalls), or
	// "copy" (memmove out of the ring or the memfd into its buffer).
	Reader string
	// Ceiling names the limit a mode measures, "" for the others:
	// "copy" (mode copy) for one core's memory copy bandwidth with the
	// bytes in cache, "ring" (ring-busy) for the best transport between
	// two processes. copy-dram, the copy out of cache, is a reference
	// beside them, not a ceiling.
	Ceiling string
	// Summary is a one-line description for tables and help text.
	Summary string
	// PostGiBPerSec is the throughput the post reports for this step in
	// GiB/s; 0 means the post gives no figure.
	PostGiBPerSec float64

	huge bool // the buffers are backed by transparent huge pages
	busy bool // both ends spin on EAGAIN (or, on a ring, on its indices)
	dram bool // the copy's source is far larger than any cache
}

// Transports (Mode.Transport).
const (
	pipeTransport   = "pipe"
	socketTransport = "socket"
	ringTransport   = "ring"
	memoryTransport = "memory"
)

// modes is the post's ladder, in order, then the ceilings beside it.
var modes = []Mode{
	{Name: "write", Transport: pipeTransport, Writer: "write", Reader: "read", PostGiBPerSec: 3.7,
		Summary: "write(2) into the pipe, read(2) out of it"},
	{Name: "write-huge", Transport: pipeTransport, Writer: "write", Reader: "read", huge: true,
		Summary: "write(2) from a huge-page buffer, read(2)"},
	{Name: "vmsplice", Transport: pipeTransport, Writer: "vmsplice", Reader: "read", PostGiBPerSec: 12.7,
		Summary: "vmsplice(2) from a double buffer, read(2)"},
	{Name: "vmsplice-huge", Transport: pipeTransport, Writer: "vmsplice", Reader: "read", huge: true,
		Summary: "vmsplice(2) from a huge-page double buffer, read(2)"},
	{Name: "splice", Transport: pipeTransport, Writer: "vmsplice", Reader: "splice", PostGiBPerSec: 32.8,
		Summary: "vmsplice(2), splice(2) to /dev/null"},
	{Name: "huge", Transport: pipeTransport, Writer: "vmsplice", Reader: "splice", huge: true, PostGiBPerSec: 51.0,
		Summary: "vmsplice(2) from huge pages, splice(2) to /dev/null"},
	{Name: "busy", Transport: pipeTransport, Writer: "vmsplice", Reader: "splice", huge: true, busy: true, PostGiBPerSec: 62.5,
		Summary: "as huge, both ends spinning on EAGAIN (SPLICE_F_NONBLOCK)"},
	{Name: "socket", Transport: socketTransport, Writer: "write", Reader: "read",
		Summary: "write(2) into an AF_UNIX stream socketpair, read(2) out of it"},
	{Name: "ring", Transport: ringTransport, Writer: "copy", Reader: "copy",
		Summary: "a shared-memory ring (memfd), both ends sleeping on a futex when it is full or empty"},
	{Name: "ring-busy", Transport: ringTransport, Writer: "copy", Reader: "copy", busy: true, Ceiling: "ring",
		Summary: "the shared-memory ring, both ends spinning on its indices"},
	{Name: "copy", Transport: memoryTransport, Writer: "fill", Reader: "copy", Ceiling: "copy",
		Summary: "one core's memory copy of a buffer in cache: no transport at all"},
	{Name: "copy-dram", Transport: memoryTransport, Writer: "fill", Reader: "copy", dram: true,
		Summary: "one core's memory copy from memory, its source four times the largest cache"},
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
	Transport      string
	Huge, Busy     bool
	Dram           bool // the copy modes' source is dramBytes
	PipeSizeBytes  int  // 0 keeps the kernel default
	RingSizeBytes  int  // the ring modes' ring
}

// planFor combines o.Mode with the knobs; o must have passed Validate.
func planFor(o Options) plan {
	m, _ := LookupMode(o.Mode)
	p := plan{Writer: m.Writer, Reader: m.Reader, Transport: m.Transport,
		Huge: m.huge || o.Huge, Busy: m.busy || o.Busy, Dram: m.dram}
	if o.Consume && p.Reader == "splice" {
		p.Reader = consumeVia()
	}
	if p.Transport == ringTransport {
		p.RingSizeBytes = ringSize(o)
	}
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

// RingSize is the size of the ring the children use in a ring mode
// (RingSizeBytes, or its default), 0 in the other modes; o must have
// passed Validate.
func (o Options) RingSize() int {
	return planFor(o).RingSizeBytes
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
