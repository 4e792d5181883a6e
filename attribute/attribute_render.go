package attribute

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/pipelab/pipelab/internal/table"
)

// WriteText writes, per role, the post's symbols that were
// seen (self and inclusive value and share, post name and the real symbol
// that matched), the ones not seen, and the other kernel symbols with the
// most self time, in pprof-like right-aligned columns.
func WriteText(w io.Writer, as []Attribution) error {
	return eachRole(w, len(as), func(i int) error {
		a := as[i]
		fmt.Fprintln(w, attributionHeader(a))
		t := &table.Table{}
		t.Add("self", "self%", "cum", "cum%", "post symbol (matched on this kernel)")
		var unseen []string
		for _, r := range a.Post {
			if r.Cum == 0 {
				unseen = append(unseen, r.Post)
				continue
			}
			t.Add(table.Value(r.Self, a.SampleType), table.Percent(r.SelfShare), table.Value(r.Cum, a.SampleType), table.Percent(r.CumShare), r.Post+" ("+r.Symbol+")")
		}
		if err := t.Write(w); err != nil {
			return err
		}
		if len(unseen) > 0 {
			fmt.Fprintf(w, "not seen: %s\n", strings.Join(unseen, ", "))
		}
		fmt.Fprintln(w, "other kernel symbols by self time:")
		return symbolTable(a.Other, a.SampleType).Write(w)
	})
}

func attributionHeader(a Attribution) string {
	return fmt.Sprintf("%s: %d samples, %s total (%s); %s of it ends on irq-enable points",
		a.Role, a.Samples, table.Value(a.Total, a.SampleType), a.SampleType, table.Percent(a.IRQEnableSelf))
}

func symbolTable(rows []SymbolShare, sampleType string) *table.Table {
	t := &table.Table{}
	t.Add("self", "self%", "cum", "cum%", "symbol")
	for _, r := range rows {
		t.Add(table.Value(r.Self, sampleType), table.Percent(r.SelfShare), table.Value(r.Cum, sampleType), table.Percent(r.CumShare), r.Symbol)
	}
	return t
}

// WriteTopText writes, per role, the kernel symbols with the most
// inclusive time (Attribution.Top): the summary table of
// `pipelab profile`.
func WriteTopText(w io.Writer, as []Attribution) error {
	for _, a := range as {
		fmt.Fprintln(w, attributionHeader(a))
		if err := symbolTable(a.Top, a.SampleType).Write(w); err != nil {
			return err
		}
	}
	return nil
}

// WriteMarkdown writes, per role, a Markdown table of the
// post's symbols that were seen and one of the other kernel symbols.
func WriteMarkdown(w io.Writer, as []Attribution) error {
	for _, a := range as {
		fmt.Fprintf(w, "**%s** — %d samples, %s; %s of it ends on irq-enable points.\n\n", a.Role, a.Samples, table.Value(a.Total, a.SampleType), table.Percent(a.IRQEnableSelf))
		var rows [][]string
		for _, r := range a.Post {
			if r.Cum > 0 {
				rows = append(rows, []string{table.Code(r.Post), table.Code(r.Symbol), table.Percent(r.SelfShare), table.Percent(r.CumShare)})
			}
		}
		for _, r := range a.Other {
			rows = append(rows, []string{"", table.Code(r.Symbol), table.Percent(r.SelfShare), table.Percent(r.CumShare)})
		}
		if err := table.Markdown(w, "llrr", []string{"post symbol", "kernel symbol", "self", "inclusive"}, rows); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	return nil
}

// WriteJSON writes the attributions as one indented JSON array.
func WriteJSON(w io.Writer, as []Attribution) error { return writeJSON(w, as) }

// eachRole writes n blocks, one per role, a blank line apart.
func eachRole(w io.Writer, n int, block func(i int) error) error {
	for i := 0; i < n; i++ {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := block(i); err != nil {
			return err
		}
	}
	return nil
}

// writeJSON writes v as indented JSON, the form of every --format json.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
