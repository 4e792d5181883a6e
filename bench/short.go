package bench

import (
	"fmt"
	"strconv"
)

// ShortError says that a run moved too little to time: a command closed
// the pipe having moved no more than one pipe's worth, short of the
// Bytes asked. A reader command that closes its end at once leaves
// pipelab's writer with a pipe's worth written and nothing known to have
// been read; a writer command that writes nothing (true) or a few bytes
// (echo) gives a transfer of microseconds that times the command's start
// and exit, not the pipe. Either way there is no throughput to report,
// and the run fails rather than print one.
type ShortError struct {
	// Role and Command name the command that closed the pipe.
	Role, Command string
	// Status is how it ended, in words ("exited with status 0").
	Status string
	// Bytes is what crossed the pipe: what pipelab's reader took, or, in
	// front of a reader command, at most what pipelab's writer wrote.
	Bytes int64
	// Asked is Options.Bytes, or 0 when both sides are commands (then
	// nothing stops the transfer but the commands).
	Asked int64
	// PipeSizeBytes is the pipe's size, F_GETPIPE_SZ.
	PipeSizeBytes int
}

// Error renders one line, e.g. `writer command "true" exited with status
// 0 having written nothing into the pipe: nothing to time`.
func (e *ShortError) Error() string { return e.Format(nil) }

// Format renders the error as Error does, with Bytes called by
// name("Bytes"), or by its Go name when name is nil.
func (e *ShortError) Format(name func(field string) string) string {
	who := fmt.Sprintf("%s command %q %s", e.Role, e.Command, e.Status)
	pipe := FormatSize(int64(e.PipeSizeBytes))
	bytesField := "Bytes"
	if name != nil {
		bytesField = name(bytesField)
	}
	asked := ""
	if e.Asked > 0 {
		asked = " of the " + FormatSize(e.Asked) + " asked (" + bytesField + ")"
	}
	switch {
	case e.Role == "reader":
		return fmt.Sprintf("%s having taken at most %s%s, no more than the pipe holds (%s), so no byte is known to have crossed: nothing to time",
			who, byteCount(e.Bytes), asked, pipe)
	case e.Bytes == 0:
		return who + " having written nothing into the pipe: nothing to time"
	}
	return fmt.Sprintf("%s having written %s into the pipe%s, no more than the pipe holds (%s): too little to time",
		who, byteCount(e.Bytes), asked, pipe)
}

// byteCount is FormatSize(n), with "bytes" after a plain number.
func byteCount(n int64) string {
	s := FormatSize(n)
	if s == strconv.FormatInt(n, 10) {
		s += " bytes"
	}
	return s
}

// checkShort fails a run in which command k closed the pipe having moved
// bytes, at most a pipe's worth and fewer than asked.
func (r *runner) checkShort(k *kid, bytes int64) error {
	pipe := r.pipeSize()
	if bytes >= r.o.Bytes || bytes > int64(pipe) {
		return nil
	}
	asked := r.o.Bytes
	if r.p.Writer == external && r.p.Reader == external {
		asked = 0
	}
	return &ShortError{Role: k.role, Command: k.command, Status: k.status().Status, Bytes: bytes, Asked: asked, PipeSizeBytes: pipe}
}

// pipeSize is the size of the run's pipe as the children found it.
func (r *runner) pipeSize() int {
	for _, k := range []*kid{r.writer, r.reader} {
		if k.ready != nil && k.ready.PipeSizeBytes > 0 {
			return k.ready.PipeSizeBytes
		}
	}
	return 0
}
