package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteDiffText writes each role's diff in pprof-like right-aligned
// columns: shares in A and B, and the change in percentage points.
func WriteDiffText(w io.Writer, ds []RoleDiff) error {
	for i, d := range ds {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, diffHeader(d))
		t := &table{}
		t.add("self% A", "self% B", "cum% A", "cum% B", "Δcum", "symbol")
		for _, r := range d.Rows {
			t.add(pct(r.SelfA), pct(r.SelfB), pct(r.CumA), pct(r.CumB), pp(r.DeltaCum), diffName(r))
		}
		if err := t.write(w); err != nil {
			return err
		}
	}
	return nil
}

func diffHeader(d RoleDiff) string {
	return fmt.Sprintf("%s: A %d samples, %s; B %d samples, %s (%s); shares of the role's total, biggest change first",
		d.Role, d.SamplesA, value(d.TotalA, d.SampleType), d.SamplesB, value(d.TotalB, d.SampleType), d.SampleType)
}

func diffName(r DiffRow) string {
	if r.Post != "" && r.Post != r.Symbol {
		return r.Symbol + " (" + r.Post + ")"
	}
	return r.Symbol
}

// WriteDiffMarkdown writes each role's diff as a Markdown table.
func WriteDiffMarkdown(w io.Writer, ds []RoleDiff) error {
	for _, d := range ds {
		fmt.Fprintf(w, "**%s** — A: %d samples, B: %d samples.\n\n", d.Role, d.SamplesA, d.SamplesB)
		var rows [][]string
		for _, r := range d.Rows {
			rows = append(rows, []string{code(r.Symbol), code(r.Post), pct(r.CumA), pct(r.CumB), pp(r.DeltaCum), pct(r.SelfA), pct(r.SelfB)})
		}
		if err := mdTable(w, "llrrrrr", []string{"kernel symbol", "post symbol", "inclusive A", "inclusive B", "change", "self A", "self B"}, rows); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	return nil
}

// WriteDiffJSON writes the diffs as one indented JSON array.
func WriteDiffJSON(w io.Writer, ds []RoleDiff) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ds)
}
