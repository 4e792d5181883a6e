package table

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Table renders rows pprof-style: every column right-aligned except the
// last (a name), two spaces apart.
type Table struct {
	rows [][]string
}

// Add appends a row.
func (t *Table) Add(cells ...string) { t.rows = append(t.rows, cells) }

// Write writes the rows, every column right-aligned to its widest cell
// but the last.
func (t *Table) Write(w io.Writer) error {
	width := map[int]int{}
	for _, r := range t.rows {
		for i, c := range r[:len(r)-1] {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		for i, c := range r[:len(r)-1] {
			b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)))
			b.WriteString(c)
			b.WriteString("  ")
		}
		b.WriteString(r[len(r)-1])
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Markdown renders a Markdown table; align holds one of 'l' or 'r' per
// column.
func Markdown(w io.Writer, align string, header []string, rows [][]string) error {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for _, a := range align {
		if a == 'r' {
			b.WriteString(" ---: |")
		} else {
			b.WriteString(" --- |")
		}
	}
	b.WriteString("\n")
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Code renders symbol names as Markdown code spans, so __wake_up does not
// turn bold; several names joined by ", " become several spans.
func Code(names string) string {
	if names == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(names, ", ", "`, `") + "`"
}

// Percent formats a 0..1 share as a percentage.
func Percent(share float64) string { return fmt.Sprintf("%.2f%%", 100*share) }

// Points formats a change of share in percentage points, signed.
func Points(delta float64) string {
	if delta == 0 {
		return "0pp"
	}
	return fmt.Sprintf("%+.2fpp", 100*delta)
}

// Value formats v in the unit of a sample type "type/unit" the way pprof
// does: durations for nanoseconds, plain numbers otherwise.
func Value(v int64, sampleType string) string {
	if strings.HasSuffix(sampleType, "/nanoseconds") {
		d := time.Duration(v)
		switch {
		case d == 0:
			return "0"
		case d.Abs() >= time.Second:
			return fmt.Sprintf("%.2fs", d.Seconds())
		case d.Abs() >= time.Millisecond:
			return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
		default:
			return fmt.Sprintf("%.2fus", float64(d)/float64(time.Microsecond))
		}
	}
	return fmt.Sprint(v)
}

// MarkdownWriter collects Markdown into W and keeps the first write
// error in Err.
type MarkdownWriter struct {
	W   io.Writer
	Err error
}

// Printf writes formatted Markdown.
func (m *MarkdownWriter) Printf(format string, a ...any) {
	if m.Err == nil {
		_, m.Err = fmt.Fprintf(m.W, format, a...)
	}
}

// Table writes a Markdown table (see Markdown) and a blank line.
func (m *MarkdownWriter) Table(align string, header []string, rows [][]string) {
	if m.Err == nil {
		m.Err = Markdown(m.W, align, header, rows)
	}
	m.Printf("\n")
}
