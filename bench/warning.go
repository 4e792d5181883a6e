package bench

import (
	"fmt"

	"github.com/pipelab/pipelab/internal/fielderr"
)

// Warning is a non-fatal problem of a run worth a footnote, e.g. a pipe
// size the kernel rounded up. Text spells every field of Options it
// mentions as {Field} ("{{" is a literal "{"): String calls the fields
// by their Go names, a command calls them by its own flag names with
// Format. bench never spells a flag of the command line.
type Warning struct {
	Text string
}

// String renders w with every field called by its Go name: "the writer
// command closed the pipe after 1MiB, before Bytes 2MiB".
func (w Warning) String() string { return w.Format(nil) }

// Format renders w with every field called by name(field), or by its Go
// name when name is nil.
func (w Warning) Format(name func(field string) string) string {
	return fielderr.Expand(w.Text, name)
}

// warnf is a Warning of fmt.Sprintf(format, args...); format spells
// fields as {Field}, and no arg may hold a brace that is not escaped
// (fielderr.Escape).
func warnf(format string, args ...any) Warning {
	return Warning{fmt.Sprintf(format, args...)}
}
