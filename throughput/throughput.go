package throughput

import (
	"math"
	"slices"

	"github.com/pipelab/pipelab/internal/table"
	"github.com/pipelab/pipelab/result"
	"golang.org/x/perf/benchmath"
)

// postGiBs holds the post's throughput for the modes it measured, in
// GiB/s, on the author's machine (Linux 5.17, bare metal).
var postGiBs = map[string]float64{
	"write":    3.7,
	"vmsplice": 12.7,
	"splice":   32.8,
	"huge":     51.0,
	"busy":     62.5,
}

// confidence is the confidence level of the interval around a median.
const confidence = 0.95

// Row summarizes one step for a throughput table, the way
// benchstat does: the median, its spread, and the change from a base.
type Row struct {
	Mode string `json:"mode"`
	// N is the number of runs.
	N int `json:"n"`
	// Median, Min and Max are in GiB/s.
	Median float64 `json:"median_gib_s"`
	Min    float64 `json:"min_gib_s"`
	Max    float64 `json:"max_gib_s"`
	// Spread is the half-width of the 95% confidence interval of the
	// median as a percentage of it (benchmath, no distribution assumed),
	// e.g. "3%". With too few runs for an interval (fewer than 6) it is
	// the widest distance from the median to Min or Max, and RangeSpread
	// is set.
	Spread      string `json:"spread"`
	RangeSpread bool   `json:"range_spread,omitempty"`
	// VsPrev and VsFirst are speedups: Median over the previous step's
	// and over the first step's median. Zero for the first row.
	VsPrev  float64 `json:"vs_prev,omitempty"`
	VsFirst float64 `json:"vs_first,omitempty"`
	// DeltaPrev is benchstat's change from the previous step, e.g.
	// "+209.23%", or "~" when a Mann-Whitney U-test cannot tell the runs
	// apart at alpha 0.05; P is that test's p-value. Empty for the first
	// row or when a step has no runs.
	DeltaPrev string  `json:"delta_prev,omitempty"`
	P         float64 `json:"p,omitempty"`
	// FewRuns is set when this step or the previous one has fewer runs
	// than a U-test needs to reach alpha 0.05 (4 each): DeltaPrev is then
	// "~" whatever the medians, and the writers say "too few runs".
	FewRuns bool `json:"few_runs,omitempty"`
	// Post is the post's figure for this mode in GiB/s, 0 when none.
	Post float64 `json:"post_gib_s,omitempty"`
	// OfCopy and OfRing are Median as a fraction of the ceilings the
	// steps measured (result.Ceilings): one core's memory copy and the
	// busy shared-memory ring; 0 when the steps did not measure it.
	OfCopy float64 `json:"of_copy,omitempty"`
	OfRing float64 `json:"of_ring,omitempty"`
	// Ceiling is the ceiling this step measured, if any.
	Ceiling string `json:"ceiling,omitempty"`
}

// Rows summarizes steps in order, each compared with the one before
// and with the first, and set against the ceilings the steps measured.
func Rows(steps []result.Step) []Row {
	rows := make([]Row, len(steps))
	samples := make([]*benchmath.Sample, len(steps))
	ceilings := result.Ceilings(steps)
	for i, s := range steps {
		rows[i], samples[i] = RowOf(s)
		rows[i].Ceiling = s.Ceiling
		rows[i].OfCopy = result.Of(result.GiBs(rows[i].Median), result.CeilingCopy, ceilings)
		rows[i].OfRing = result.Of(result.GiBs(rows[i].Median), result.CeilingRing, ceilings)
		if i == 0 {
			continue
		}
		rows[i].VsPrev = Ratio(rows[i].Median, rows[i-1].Median)
		rows[i].VsFirst = Ratio(rows[i].Median, rows[0].Median)
		if samples[i] != nil && samples[i-1] != nil {
			c := benchmath.AssumeNothing.Compare(samples[i-1], samples[i])
			rows[i].DeltaPrev = c.FormatDelta(rows[i-1].Median, rows[i].Median)
			rows[i].P = c.P
			rows[i].FewRuns = rows[i].N < MinRunsForTest || rows[i-1].N < MinRunsForTest
		}
	}
	return rows
}

// RowOf summarises one step's runs, and returns the benchmath sample of
// them for comparisons (nil without runs).
func RowOf(s result.Step) (Row, *benchmath.Sample) {
	r := Row{Mode: s.Mode, N: len(s.Runs), Median: float64(s.MedianGiBs), Min: float64(s.MinGiBs), Max: float64(s.MaxGiBs), Post: postGiBs[s.Mode]}
	if len(s.Runs) == 0 {
		r.Spread, r.RangeSpread = rangeSpread(r), true
		return r, nil
	}
	sample := benchmath.NewSample(slices.Clone(s.Runs), &benchmath.DefaultThresholds)
	sum := benchmath.AssumeNothing.Summary(sample, confidence)
	r.Median, r.Min, r.Max = sum.Center, sample.Values[0], sample.Values[len(sample.Values)-1]
	if math.IsInf(sum.Lo, 0) || math.IsInf(sum.Hi, 0) {
		r.Spread, r.RangeSpread = rangeSpread(r), true
	} else {
		r.Spread = sum.PctRangeString()
	}
	return r, sample
}

// rangeSpread is the widest distance from the median to min or max, in
// percent of the median.
func rangeSpread(r Row) string {
	if r.Median == 0 {
		return "?"
	}
	v := math.Max(r.Max/r.Median-1, 1-r.Min/r.Median)
	return formatPct(100 * v)
}

func formatPct(v float64) string {
	return table.Float(v, 0) + "%"
}

// Ratio is a over b, 0 when b is 0.
func Ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// MinRunsForTest is the fewest runs per step with which a Mann-Whitney U
// test can reach alpha 0.05 (4 against 4 gives p=0.029).
const MinRunsForTest = 4
