package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pipelab/pipelab/internal/table"
	"github.com/pipelab/pipelab/throughput"
)

// settingsMark flags a change between runs measured with different
// settings.
const settingsMark = " ≠"

// WriteText writes a comparison the way benchstat writes one: the
// folders and what they recorded, where the machines differ, a throughput
// table (per step each folder's median ± spread and the change against
// the first folder with its p-value), the steps measured with different
// settings, and per step and role the kernel symbols whose inclusive share
// changed most.
func WriteText(w io.Writer, l *Ladders) error {
	var b strings.Builder
	b.WriteString("folders:\n")
	for _, f := range l.Folders {
		fmt.Fprintf(&b, "  %s: %s\n", f.Name, envLine(f))
	}
	fmt.Fprintf(&b, "machine: %s\n\n", l.Machine)
	b.WriteString("throughput, GiB/s: median ± spread (runs), change against " + l.Folders[0].Name + " (p-value)\n")
	if err := table.Aligned(&b, laddersAlign(l), laddersThroughput(l, false)); err != nil {
		return err
	}
	writeFootnotes(&b, l, false)
	if cells := laddersCeilings(l, false); cells != nil {
		b.WriteString("\nshare of each folder's own ceilings: " + ceilingsLegend + "\n")
		if err := table.Aligned(&b, "l"+strings.Repeat("r", len(l.Folders)), cells); err != nil {
			return err
		}
		for _, f := range l.Folders {
			fmt.Fprintf(&b, "  %s: %s\n", f.Name, ceilingsLine(f))
		}
	}
	for _, st := range l.Steps {
		for _, rs := range st.Roles {
			fmt.Fprintf(&b, "\n%s, %s: inclusive share of %s, biggest change first\n", st.Mode, rs.Role, l.SampleType)
			if err := table.Aligned(&b, symbolsAlign(l), symbolCells(l, rs, false)); err != nil {
				return err
			}
		}
		for _, n := range st.Notes {
			fmt.Fprintf(&b, "%s: %s\n", st.Mode, n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the comparison in Markdown, with the same
// content as WriteText. chart, when not empty, is the file name of
// the grouped bar chart to show under the throughput table.
func WriteMarkdown(w io.Writer, l *Ladders, chart string) error {
	m := &table.MarkdownWriter{W: w}
	m.Printf("# Comparison of %d result folders\n\n", len(l.Folders))
	m.Printf("**%s**\n\n", l.Machine)
	var rows [][]string
	for _, f := range l.Folders {
		rows = append(rows, []string{"`" + f.Name + "`", envLine(f)})
	}
	m.Table("ll", []string{"folder", "recorded"}, rows)
	m.Printf("\n## Throughput\n\nGiB/s: median ± spread (runs), change against `%s` (p-value of a Mann-Whitney U-test).\n\n", l.Folders[0].Name)
	cells := laddersThroughput(l, true)
	m.Table(laddersAlign(l), cells[0], cells[1:])
	if m.Err == nil {
		var b strings.Builder
		writeFootnotes(&b, l, true)
		m.Printf("%s", b.String())
	}
	if chart != "" {
		m.Printf("\n![median GiB/s per step and folder](%s)\n", chart)
	}
	if cells := laddersCeilings(l, true); cells != nil {
		m.Printf("\n## Against each machine's ceilings\n\nShare of each folder's own ceilings: %s.\n\n", ceilingsLegend)
		m.Table("l"+strings.Repeat("r", len(l.Folders)), cells[0], cells[1:])
		m.Printf("\n")
		for _, f := range l.Folders {
			m.Printf("- `%s`: %s\n", f.Name, ceilingsLine(f))
		}
	}
	for _, st := range l.Steps {
		if len(st.Roles) == 0 && len(st.Notes) == 0 && len(st.Flames) == 0 {
			continue
		}
		m.Printf("\n## %s\n", st.Mode)
		for _, rs := range st.Roles {
			m.Printf("\n%s: inclusive share of %s, biggest change first.\n\n", rs.Role, l.SampleType)
			cells := symbolCells(l, rs, true)
			m.Table(symbolsAlign(l), cells[0], cells[1:])
		}
		if len(st.Flames) > 0 {
			m.Printf("\nDifferential flame graphs (each frame coloured by the change of its function's share):\n\n")
		}
		for _, f := range st.Flames {
			m.Printf("- [%s, `%s` against `%s`](%s)\n", f.Role, l.Folders[f.Folder].Name, l.Folders[0].Name, f.File)
		}
		for _, n := range st.Notes {
			m.Printf("\n- %s\n", n)
		}
	}
	return m.Err
}

// WriteJSON writes the comparison as one indented JSON object.
func WriteJSON(w io.Writer, l *Ladders) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(l)
}

// envLine is what a folder recorded of its machine, on one line.
func envLine(f LadderFolder) string {
	e := f.Env
	if e == nil {
		return fmt.Sprintf("no environment recorded (format version %d)", f.Version)
	}
	kernel := "Linux " + orUnknown(e.Kernel)
	if e.Arch != "" {
		kernel += " " + e.Arch
	}
	parts := []string{kernel, orUnknown(e.CPUModel) + " ×" + strconv.Itoa(e.CPUs),
		"idle " + orUnknown(e.IdleDriver), "THP " + orUnknown(e.THP), orUnknown(e.PMU) + " PMU", "pipelab " + orUnknown(e.Pipelab)}
	if !e.Time.IsZero() {
		parts = append(parts, e.Time.UTC().Format("2006-01-02 15:04 UTC"))
	}
	line := strings.Join(parts, ", ") + fmt.Sprintf(" (format version %d)", f.Version)
	if e.Emulation != "" {
		line = e.Emulation + "; " + line
	}
	return line
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// laddersAlign aligns the step column left and the others right.
func laddersAlign(l *Ladders) string {
	return "l" + strings.Repeat("r", 2*len(l.Folders)-1)
}

// laddersThroughput is the throughput table, header first: per step the
// base folder's cell, then per other folder its cell and its change.
func laddersThroughput(l *Ladders, md bool) [][]string {
	head := []string{"step", l.Folders[0].Name}
	for _, f := range l.Folders[1:] {
		head = append(head, f.Name, "vs "+l.Folders[0].Name)
	}
	cells := [][]string{head}
	for _, st := range l.Steps {
		mode := st.Mode
		if md {
			mode = "`" + mode + "`"
		}
		row := []string{mode}
		for i, c := range st.Cells {
			row = append(row, ladderCell(c))
			if i > 0 {
				row = append(row, ladderDelta(st, c))
			}
		}
		cells = append(cells, row)
	}
	return cells
}

// ladderCell is "0.65 ± 3% (6)", with ¹ for a spread from the range.
func ladderCell(c LadderCell) string {
	if c.Missing {
		return "missing"
	}
	r := c.Throughput
	s := table.GiBs(r.Median) + " ± " + r.Spread
	if r.RangeSpread {
		s += " ¹"
	}
	return s + " (" + strconv.Itoa(r.N) + ")"
}

// ladderDelta is the change against the base, flagged when the folder ran
// the step with other settings than the base.
func ladderDelta(st LadderStep, c LadderCell) string {
	var s string
	switch {
	case c.Missing || c.Delta == "":
		return ""
	case c.FewRuns:
		s = table.Speedup(c.Ratio) + " (too few runs)"
	case c.Delta == "~":
		s = fmt.Sprintf("~ (p=%.3f)", c.P)
	default:
		s = fmt.Sprintf("%s (p=%.3f)", c.Delta, c.P)
	}
	if c.SettingsDiffer {
		s += settingsMark
	}
	return s
}

// writeFootnotes explains the marks of the throughput table and lists the
// settings that differ per step: indented lines in text, a list after a
// blank line in Markdown (md).
func writeFootnotes(b *strings.Builder, l *Ladders, md bool) {
	prefix, item := "", "  "
	if md {
		prefix, item = "\n", "- "
	}
	rangeSpread, few := false, false
	var flagged []LadderStep
	for _, st := range l.Steps {
		for _, c := range st.Cells {
			rangeSpread = rangeSpread || (!c.Missing && c.Throughput.RangeSpread)
			few = few || c.FewRuns
		}
		if len(st.Settings) > 0 {
			flagged = append(flagged, st)
		}
	}
	var lines []string
	if rangeSpread {
		lines = append(lines, "¹ spread is the range of the runs: a 95% confidence interval of the median needs at least 6 runs")
	}
	if few {
		lines = append(lines, fmt.Sprintf("too few runs: a U-test needs %d runs on each side to tell a change at alpha 0.05; the ratio of the medians is shown instead", throughput.MinRunsForTest))
	}
	if len(flagged) > 0 {
		head := "≠ measured with different settings, so the change is not the machine's alone:"
		if md {
			head += "\n" // a Markdown list needs a blank line above it
		}
		lines = append(lines, head)
		for _, st := range flagged {
			var parts []string
			for _, d := range st.Settings {
				parts = append(parts, d.Field+" "+vs(d.Values))
			}
			lines = append(lines, item+st.Mode+": "+strings.Join(parts, ", "))
		}
	}
	if len(lines) > 0 {
		b.WriteString(prefix + strings.Join(lines, "\n") + "\n")
	}
}

func symbolsAlign(l *Ladders) string {
	return "l" + strings.Repeat("r", 2*len(l.Folders)-1)
}

// symbolCells is a role's symbol table, header first: the symbol, its
// share per folder, and per other folder the change against the base.
func symbolCells(l *Ladders, rs RoleSymbols, md bool) [][]string {
	head := []string{"symbol"}
	for _, f := range l.Folders {
		head = append(head, f.Name)
	}
	for _, f := range l.Folders[1:] {
		head = append(head, "Δ "+f.Name)
	}
	cells := [][]string{head}
	for _, s := range rs.Symbols {
		row := []string{seriesLabel(s, md)}
		for _, v := range s.Cum {
			row = append(row, shareCell(v))
		}
		for _, v := range s.Cum[1:] {
			if v < 0 || s.Cum[0] < 0 {
				row = append(row, "")
			} else {
				row = append(row, table.Points(v-s.Cum[0]))
			}
		}
		cells = append(cells, row)
	}
	return cells
}

func shareCell(v float64) string {
	if v < 0 {
		return "—"
	}
	return table.Percent(v)
}

// seriesLabel names a symbol row: the post's name or the routines' job
// and, when a folder spells it otherwise, the real names ("pipe_write
// (pipe_write | anon_pipe_write)", "user copy
// (copy_user_enhanced_fast_string | rep_movs_alternative)").
func seriesLabel(s SymbolSeries, md bool) string {
	var real []string
	seen := map[string]bool{}
	for _, n := range s.Names {
		if n != "" && !seen[n] {
			seen[n] = true
			real = append(real, n)
		}
	}
	label := s.label()
	if named := s.Post + s.Routine; named != "" && (len(real) > 1 || (len(real) == 1 && real[0] != named)) {
		label += " (" + strings.Join(real, " | ") + ")"
	}
	if md {
		return "`" + label + "`"
	}
	return label
}

// ceilingsLegend says what the ceilings table shows.
const ceilingsLegend = "of copy (one core's memory copy, the most a reader that must have the bytes can take) / of ring (the busy shared-memory ring, the best transport between two processes measured there)"

// laddersCeilings is the table of each step's share of its folder's own
// ceilings, header first; nil when no folder measured any.
func laddersCeilings(l *Ladders, md bool) [][]string {
	any := false
	head := []string{"step"}
	for _, f := range l.Folders {
		any = any || len(f.Ceilings) > 0
		head = append(head, f.Name)
	}
	if !any {
		return nil
	}
	cells := [][]string{head}
	for _, st := range l.Steps {
		mode := st.Mode
		if md {
			mode = "`" + mode + "`"
		}
		row := []string{mode}
		for _, c := range st.Cells {
			row = append(row, ceilingShares(c))
		}
		cells = append(cells, row)
	}
	return cells
}

// ceilingShares is "23% / 90%": a step's share of its folder's copy
// ceiling and ring ceiling, "–" where the folder measured one but not
// the other, "" where the folder lacks the step or both ceilings.
func ceilingShares(c LadderCell) string {
	r := c.Throughput
	if c.Missing || r.OfCopy == 0 && r.OfRing == 0 {
		return ""
	}
	share := func(f float64) string {
		if f == 0 {
			return "–"
		}
		return throughput.Share(f)
	}
	return share(r.OfCopy) + " / " + share(r.OfRing)
}

// ceilingsLine says what a folder's ceilings are.
func ceilingsLine(f LadderFolder) string {
	if len(f.Ceilings) == 0 {
		return "no ceilings measured"
	}
	var parts []string
	for _, c := range f.Ceilings {
		parts = append(parts, fmt.Sprintf("%s %s GiB/s (step %s)", c.Name, table.GiBs(float64(c.MedianGiBs)), c.Step))
	}
	return strings.Join(parts, ", ")
}
