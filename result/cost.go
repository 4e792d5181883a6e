package result

import (
	"fmt"
	"slices"

	"golang.org/x/perf/benchmath"
)

// Cost is what profiling cost a step: its profiled transfers against its
// unprofiled ones, run interleaved (unprofiled, profiled, ... in each
// round).
type Cost struct {
	// ProfiledMedianGiBs and UnprofiledMedianGiBs are the medians of the
	// two kinds of transfer, in GiB/s; Ratio is profiled over unprofiled.
	ProfiledMedianGiBs   float64 `json:"profiled_median_gib_s"`
	UnprofiledMedianGiBs float64 `json:"unprofiled_median_gib_s"`
	Ratio                float64 `json:"ratio"`
	// Runs is how many transfers of each kind ran (the fewer of the two).
	Runs int `json:"runs"`
	// ProfiledGiBs and UnprofiledGiBs are the throughput of every
	// finished transfer of each kind, in GiB/s, in the order they ran.
	// Files from before the fields have neither: Line then goes by the
	// medians and Runs alone.
	ProfiledGiBs   []float64 `json:"profiled_gib_s,omitempty"`
	UnprofiledGiBs []float64 `json:"unprofiled_gib_s,omitempty"`
	// CountedMedianGiBs is the median of the counted transfers, which
	// carried the per-thread counters (the cpu view); CountedRuns how
	// many ran. Zero in the wall view, whose profiled transfers count.
	CountedMedianGiBs float64 `json:"counted_median_gib_s,omitempty"`
	CountedRuns       int     `json:"counted_runs,omitempty"`
}

// MinCostRuns is the fewest transfers of each kind that can tell a cost
// from the noise: with fewer, the Mann-Whitney U test that benchmath runs
// cannot reach p < 0.05 however far apart the two kinds are.
const MinCostRuns = 4

// Line says what profiling cost: the change of the median when
// benchmath's U test tells the two kinds apart (p < 0.05), e.g.
// "profiling cost: 4% of throughput (9.12 vs 9.50 GiB/s, p=0.002, 6+6
// interleaved runs)"; otherwise that the cost could not be told from the
// noise, with each kind's median and range of runs.
func (o *Cost) Line() string {
	nP, nU := o.Runs, o.Runs
	if o.perRun() {
		nP, nU = len(o.ProfiledGiBs), len(o.UnprofiledGiBs)
	}
	runs := fmt.Sprintf("%d+%d interleaved runs", nP, nU)
	if o.TooFewRuns() {
		return fmt.Sprintf("profiling cost: not told from the noise with %s (profiled %s, unprofiled %s GiB/s; %d+%d or more can tell)",
			runs, spread(o.ProfiledMedianGiBs, o.ProfiledGiBs), spread(o.UnprofiledMedianGiBs, o.UnprofiledGiBs), MinCostRuns, MinCostRuns)
	}
	if !o.perRun() { // a file from before the runs were kept
		return fmt.Sprintf("profiling cost: %s (%.2f vs %.2f GiB/s, %s)", o.change(), o.ProfiledMedianGiBs, o.UnprofiledMedianGiBs, runs)
	}
	c := o.compare()
	if c.P > c.Alpha {
		return fmt.Sprintf("profiling cost: not told from the noise (profiled %s, unprofiled %s GiB/s; p=%.2f, %s)",
			spread(o.ProfiledMedianGiBs, o.ProfiledGiBs), spread(o.UnprofiledMedianGiBs, o.UnprofiledGiBs), c.P, runs)
	}
	return fmt.Sprintf("profiling cost: %s (%.2f vs %.2f GiB/s, p=%.3f, %s)", o.change(), o.ProfiledMedianGiBs, o.UnprofiledMedianGiBs, c.P, runs)
}

// TooFewRuns reports whether either kind ran fewer than MinCostRuns
// transfers, too few to tell any cost from the noise.
func (o *Cost) TooFewRuns() bool {
	if o.perRun() {
		return min(len(o.ProfiledGiBs), len(o.UnprofiledGiBs)) < MinCostRuns
	}
	return o.Runs < MinCostRuns
}

// perRun reports whether o holds the runs of both kinds.
func (o *Cost) perRun() bool { return len(o.ProfiledGiBs) > 0 && len(o.UnprofiledGiBs) > 0 }

// compare runs benchmath's U test on the two kinds' runs.
func (o *Cost) compare() benchmath.Comparison {
	u := benchmath.NewSample(slices.Clone(o.UnprofiledGiBs), &benchmath.DefaultThresholds)
	p := benchmath.NewSample(slices.Clone(o.ProfiledGiBs), &benchmath.DefaultThresholds)
	return benchmath.AssumeNothing.Compare(u, p)
}

// change words the change of the median.
func (o *Cost) change() string {
	if o.Ratio > 1 {
		return fmt.Sprintf("none, the profiled runs were %.0f%% faster", 100*(o.Ratio-1))
	}
	return fmt.Sprintf("%.0f%% of throughput", 100*(1-o.Ratio))
}

// spread gives a median and, for two runs or more, their range:
// "0.93 (0.61-0.98)".
func spread(median float64, runs []float64) string {
	if len(runs) < 2 {
		return fmt.Sprintf("%.2f", median)
	}
	return fmt.Sprintf("%.2f (%.2f-%.2f)", median, slices.Min(runs), slices.Max(runs))
}
