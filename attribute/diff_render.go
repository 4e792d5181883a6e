package attribute

import (
	"fmt"
	"io"

	"github.com/pipelab/pipelab/internal/table"
)

// WriteDiffText writes each role's diff in pprof-like right-aligned
// columns: shares in A and B, and the change in percentage points.
func WriteDiffText(w io.Writer, ds []RoleDiff) error {
	return eachRole(w, len(ds), func(i int) error {
		d := ds[i]
		fmt.Fprintln(w, diffHeader(d))
		t := &table.Table{}
		t.Add("self% A", "self% B", "cum% A", "cum% B", "Δcum", "symbol")
		for _, r := range d.Rows {
			t.Add(table.Percent(r.SelfA), table.Percent(r.SelfB), table.Percent(r.CumA), table.Percent(r.CumB), table.Points(r.DeltaCum), diffName(r))
		}
		return t.Write(w)
	})
}

func diffHeader(d RoleDiff) string {
	return fmt.Sprintf("%s: A %d samples, %s; B %d samples, %s (%s); shares of the role's total, biggest change first",
		d.Role, d.SamplesA, table.Value(d.TotalA, d.SampleType), d.SamplesB, table.Value(d.TotalB, d.SampleType), d.SampleType)
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
			rows = append(rows, []string{table.Code(r.Symbol), table.Code(r.Post), table.Percent(r.CumA), table.Percent(r.CumB), table.Points(r.DeltaCum), table.Percent(r.SelfA), table.Percent(r.SelfB)})
		}
		if err := table.Markdown(w, "llrrrrr", []string{"kernel symbol", "post symbol", "inclusive A", "inclusive B", "change", "self A", "self B"}, rows); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	return nil
}

// WriteDiffJSON writes the diffs as one indented JSON array.
func WriteDiffJSON(w io.Writer, ds []RoleDiff) error { return writeJSON(w, ds) }
