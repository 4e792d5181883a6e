package throughput

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pipelab/pipelab/internal/table"
	"github.com/pipelab/pipelab/result"
)

// DeltaCell is a row's change from the previous step as the tables show
// it: benchstat's delta with its p-value, or "too few runs" for a U-test.
func DeltaCell(r Row) string {
	switch {
	case r.DeltaPrev == "":
		return ""
	case r.FewRuns:
		return "too few runs"
	case r.DeltaPrev == "~":
		return fmt.Sprintf("~ (p=%.3f)", r.P)
	}
	return fmt.Sprintf("%s (p=%.3f)", r.DeltaPrev, r.P)
}

// medianCell is a row's median ± spread, marked ¹ when the spread is the
// range of the runs (the tables' footnote says why).
func medianCell(r Row) string {
	med := table.GiBs(r.Median) + " ± " + r.Spread
	if r.RangeSpread {
		med += " ¹"
	}
	return med
}

// WriteText writes a benchstat-like table: per step the median
// GiB/s ± spread, min and max, the number of runs, the change from the
// previous step with its p-value, the speedups over the previous and the
// first step, and the post's figure; where the steps measured ceilings,
// each step's median as a share of each. A footnote explains a spread
// taken from the range of the runs.
func WriteText(w io.Writer, rows []Row) error {
	copyCol, ringCol := ceilingColumns(rows)
	head := append([]string{"mode", "GiB/s", "min", "max", "n", "vs previous", "speedup", "vs first", "post"}, ceilingHeads(copyCol, ringCol, "of copy", "of ring")...)
	cells := [][]string{head}
	foot := false
	for _, r := range rows {
		med := medianCell(r)
		foot = foot || r.RangeSpread
		cells = append(cells, append([]string{r.Mode, med, table.GiBs(r.Min), table.GiBs(r.Max), strconv.Itoa(r.N), DeltaCell(r), table.Speedup(r.VsPrev), table.Speedup(r.VsFirst), table.GiBs(r.Post)},
			ceilingCells(r, copyCol, ringCol)...))
	}
	if err := table.Aligned(w, "lrrrrrrrr"+strings.Repeat("r", len(head)-9), cells); err != nil {
		return err
	}
	if foot {
		if _, err := fmt.Fprintln(w, "¹ spread is the range of the runs: a 95% confidence interval of the median needs at least 6 runs"); err != nil {
			return err
		}
	}
	return writeCeilingNote(w, rows, copyCol, ringCol, "")
}

// WriteMarkdown writes the throughput table in Markdown, with
// the same footnotes as WriteText.
func WriteMarkdown(w io.Writer, rows []Row) error {
	copyCol, ringCol := ceilingColumns(rows)
	var cells [][]string
	foot := false
	for _, r := range rows {
		med := medianCell(r)
		foot = foot || r.RangeSpread
		cells = append(cells, append([]string{"`" + r.Mode + "`", med, table.GiBs(r.Min), table.GiBs(r.Max), strconv.Itoa(r.N), DeltaCell(r), table.Speedup(r.VsPrev), table.Speedup(r.VsFirst), table.GiBs(r.Post)},
			ceilingCells(r, copyCol, ringCol)...))
	}
	head := append([]string{"step", "median GiB/s", "min", "max", "runs", "vs previous", "speedup over previous", "speedup over first", "post (GiB/s)"},
		ceilingHeads(copyCol, ringCol, "of the copy ceiling", "of the ring ceiling")...)
	if err := table.Markdown(w, "lrrrrrrrr"+strings.Repeat("r", len(head)-9), head, cells); err != nil {
		return err
	}
	if foot {
		if _, err := fmt.Fprintln(w, "\n¹ spread is the range of the runs: a 95% confidence interval of the median needs at least 6 runs."); err != nil {
			return err
		}
	}
	return writeCeilingNote(w, rows, copyCol, ringCol, "\n")
}

// ceilingColumns says which ceiling columns the table needs: those of
// the ceilings some row is set against.
func ceilingColumns(rows []Row) (copyCol, ringCol bool) {
	for _, r := range rows {
		copyCol = copyCol || r.OfCopy > 0
		ringCol = ringCol || r.OfRing > 0
	}
	return copyCol, ringCol
}

func ceilingHeads(copyCol, ringCol bool, copyHead, ringHead string) []string {
	var h []string
	if copyCol {
		h = append(h, copyHead)
	}
	if ringCol {
		h = append(h, ringHead)
	}
	return h
}

func ceilingCells(r Row, copyCol, ringCol bool) []string {
	var c []string
	if copyCol {
		c = append(c, Share(r.OfCopy))
	}
	if ringCol {
		c = append(c, Share(r.OfRing))
	}
	return c
}

// Share spells a fraction of a ceiling as a percentage, with a decimal
// below 10%; "" for none.
func Share(f float64) string {
	switch {
	case f == 0:
		return ""
	case f < 0.1:
		return table.Float(100*f, 1) + "%"
	}
	return formatPct(100 * f)
}

// writeCeilingNote says, under a table with ceiling columns, what they
// are measured against; before goes first (a blank line in Markdown).
func writeCeilingNote(w io.Writer, rows []Row, copyCol, ringCol bool, before string) error {
	if !copyCol && !ringCol {
		return nil
	}
	var parts []string
	for _, r := range rows {
		switch {
		case r.Ceiling == result.CeilingCopy && copyCol && r.OfCopy == 1:
			parts = append(parts, fmt.Sprintf("copy is %s GiB/s (step %s: one core's memory copy, the most a reader that must have the bytes can take)", table.GiBs(r.Median), r.Mode))
		case r.Ceiling == result.CeilingRing && ringCol && r.OfRing == 1:
			parts = append(parts, fmt.Sprintf("ring is %s GiB/s (step %s: the busy shared-memory ring, the best transport between two processes measured here)", table.GiBs(r.Median), r.Mode))
		}
	}
	_, err := fmt.Fprintf(w, "%sceilings: %s\n", before, strings.Join(parts, "; "))
	return err
}

// csvHeader is the header of WriteCSV. Its first fifteen columns are
// those of the post's measure.py, in its order, so its pandas step reads
// pipelab's CSV unchanged: name is the mode, gibibytes_per_second the rate
// in GiB/s (2^30 bytes), booleans are 0 or 1. pipelab's own columns follow:
// the run's number within its step, and where the buffer started.
var csvHeader = []string{
	"name", "gibibytes_per_second", "bytes_to_pipe", "buf_size", "pipe_size",
	"busy_loop", "poll", "huge_page", "check_huge_page", "write_with_vmsplice", "read_with_splice",
	"gift", "lock_memory", "dont_touch_pages", "same_buffer",
	"run", "buf_offset",
}

// WriteCSV writes one CSV row per run of every step, under
// csvHeader.
func WriteCSV(w io.Writer, steps []result.Step) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, s := range steps {
		for i, g := range s.Runs {
			if err := cw.Write(csvRow(s, i, g)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvRow(s result.Step, run int, g float64) []string {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	mode := s.Mode
	if s.Strategy != "" {
		mode = s.Strategy // Mode is a --name label
	}
	vmsplice := mode == "vmsplice" || mode == "vmsplice-huge" || mode == "splice" || mode == "huge" || mode == "busy"
	splice := (mode == "splice" || mode == "huge" || mode == "busy") && !s.Consume // a consuming reader reads
	huge := s.Huge || mode == "write-huge" || mode == "vmsplice-huge" || mode == "huge" || mode == "busy"
	busy := s.Busy || mode == "busy"
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	return []string{
		s.Mode, strconv.FormatFloat(g, 'f', 6, 64), i64(s.Bytes), i64(s.BufSize), i64(s.PipeSize),
		b(busy), b(s.Poll), b(huge), b(s.CheckHuge), b(vmsplice), b(splice),
		b(s.Gift), b(s.LockMemory), b(s.DontTouchPages), b(s.SameBuffer),
		strconv.Itoa(run + 1), strconv.Itoa(s.BufOffset),
	}
}
