package bench

import (
	"fmt"
	"strings"
)

// Message is a text of bench's that may mention fields of Options (or
// the parameters of Watch): a list of parts, each either words, said as
// they are, or a field, which whoever renders the message names — by its
// Go name in Error and String, by its flag in cmd/pipelab. Words are never
// read back for field names, so any text (a command line, a kernel error)
// goes into them as it is. bench never spells a flag of the command line.
type Message []Part

// Part is one piece of a Message: Words, or a Field when Field is set.
type Part struct {
	Words string
	Field string
}

// Format renders m with every field called by name(field), or by its Go
// name when name is nil.
func (m Message) Format(name func(field string) string) string {
	var b strings.Builder
	for _, p := range m {
		switch {
		case p.Field == "":
			b.WriteString(p.Words)
		case name == nil:
			b.WriteString(p.Field)
		default:
			b.WriteString(name(p.Field))
		}
	}
	return b.String()
}

// String renders m with every field called by its Go name.
func (m Message) String() string { return m.Format(nil) }

// field marks an argument of say as a field of Options.
type field string

// say builds a Message from words and fields: a field argument is a
// field, a Message argument its parts, any other argument words, as
// fmt.Sprint spells it.
func say(parts ...any) Message {
	m := make(Message, 0, len(parts))
	for _, p := range parts {
		switch p := p.(type) {
		case field:
			m = append(m, Part{Field: string(p)})
		case Message:
			m = append(m, p...)
		default:
			m = append(m, Part{Words: fmt.Sprint(p)})
		}
	}
	return m
}

// Warning is a non-fatal problem of a run worth a footnote, e.g. a pipe
// size the kernel rounded up: String calls the fields it mentions by
// their Go names, a command calls them by its own flag names with Format.
type Warning struct {
	Message
}

// warn is the Warning of say(parts...).
func warn(parts ...any) Warning { return Warning{say(parts...)} }

// warnf is a Warning in words only: fmt.Sprintf(format, args...).
func warnf(format string, args ...any) Warning { return warn(fmt.Sprintf(format, args...)) }
