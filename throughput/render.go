package throughput

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

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
// first step, and the post's figure. A footnote explains a spread taken
// from the range of the runs.
func WriteText(w io.Writer, rows []Row) error {
	cells := [][]string{{"mode", "GiB/s", "min", "max", "n", "vs previous", "speedup", "vs first", "post"}}
	foot := false
	for _, r := range rows {
		med := medianCell(r)
		foot = foot || r.RangeSpread
		cells = append(cells, []string{r.Mode, med, table.GiBs(r.Min), table.GiBs(r.Max), strconv.Itoa(r.N), DeltaCell(r), table.Speedup(r.VsPrev), table.Speedup(r.VsFirst), table.GiBs(r.Post)})
	}
	if err := table.Aligned(w, "lrrrrrrrr", cells); err != nil {
		return err
	}
	if foot {
		_, err := fmt.Fprintln(w, "¹ spread is the range of the runs: a 95% confidence interval of the median needs at least 6 runs")
		return err
	}
	return nil
}

// WriteMarkdown writes the throughput table in Markdown, with
// the same footnote as WriteText.
func WriteMarkdown(w io.Writer, rows []Row) error {
	var cells [][]string
	foot := false
	for _, r := range rows {
		med := medianCell(r)
		foot = foot || r.RangeSpread
		cells = append(cells, []string{"`" + r.Mode + "`", med, table.GiBs(r.Min), table.GiBs(r.Max), strconv.Itoa(r.N), DeltaCell(r), table.Speedup(r.VsPrev), table.Speedup(r.VsFirst), table.GiBs(r.Post)})
	}
	if err := table.Markdown(w, "lrrrrrrrr", []string{"step", "median GiB/s", "min", "max", "runs", "vs previous", "speedup over previous", "speedup over first", "post (GiB/s)"}, cells); err != nil {
		return err
	}
	if foot {
		_, err := fmt.Fprintln(w, "\n¹ spread is the range of the runs: a 95% confidence interval of the median needs at least 6 runs.")
		return err
	}
	return nil
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
	vmsplice := mode != "write" && mode != "write-huge"
	splice := mode == "splice" || mode == "huge" || mode == "busy"
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
