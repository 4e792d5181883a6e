package profile_test

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/profile"
)

var (
	overheadBytes  = flag.String("overhead.bytes", "1GiB", "bytes piped per run by BenchmarkOverhead")
	overheadRounds = flag.Int("overhead.rounds", 7, "interleaved rounds of BenchmarkOverhead")
	overheadModes  = flag.String("overhead.modes", "", "comma-separated modes for BenchmarkOverhead (default all)")
)

// overheadViews are the profile views BenchmarkOverhead measures; a view
// that profile.New refuses on this build is skipped with a log line.
var overheadViews = []string{"cpu", "wall"}

// BenchmarkOverhead measures how much profiling slows the transfer it
// profiles: for every mode, throughput under bench.Run with a
// profile.Profiler at the default 999 Hz divided by throughput of the same
// run without an observer. Each round runs every variant of a mode back
// to back, in an order that rotates from round to round, and the ratio is
// taken within the round, so load that comes and goes on the machine
// touches both sides of a ratio alike. It reports the median ratio per
// mode and view ("write-ratio" for the cpu view, "write-wall-ratio"), the
// median GiB/s without profiling ("write-GiB/s"), and the samples lost
// over all profiled runs ("lost"); the target is a ratio of at least 0.95.
// Run it alone, as the ratio is only as good as the machine is quiet:
//
//	go test -run '^$' -bench Overhead -benchtime 1x ./profile
func BenchmarkOverhead(b *testing.B) {
	mustHavePerfEvents(b)
	size, err := bench.ParseSize(*overheadBytes)
	if err != nil {
		b.Fatal(err)
	}
	variants := []string{""} // "" runs without an observer
	for _, view := range overheadViews {
		if _, err := profile.New(profile.Config{FreqHz: 999, View: view}); err != nil {
			b.Logf("view %s not measured: %v", view, err)
			continue
		}
		variants = append(variants, view)
	}
	modes := overheadModeNames()
	ratios := map[string][]float64{} // by mode and view
	base := map[string][]float64{}   // GiB/s without observer, by mode
	var lost uint64
	for i := 0; i < b.N*(*overheadRounds); i++ {
		for _, mode := range modes {
			got := map[string]float64{}
			for j := range variants {
				view := variants[(i+j)%len(variants)]
				gibs, l := overheadRun(b, mode, size, view)
				got[view] = gibs
				lost += l
			}
			base[mode] = append(base[mode], got[""])
			for _, view := range variants[1:] {
				ratios[mode+" "+view] = append(ratios[mode+" "+view], got[view]/got[""])
			}
		}
	}
	for _, mode := range modes {
		b.ReportMetric(median(base[mode]), mode+"-GiB/s")
		for _, view := range variants[1:] {
			name := mode + "-ratio"
			if view != "cpu" {
				name = mode + "-" + view + "-ratio"
			}
			r := ratios[mode+" "+view]
			b.ReportMetric(median(r), name)
			b.Logf("%-13s %-4s ratio median %.3f of %s", mode, view, median(r), fmtRatios(r))
		}
	}
	b.ReportMetric(float64(lost), "lost")
}

// overheadModeNames returns the modes to measure: -overhead.modes, or all.
func overheadModeNames() []string {
	if *overheadModes != "" {
		return strings.Split(*overheadModes, ",")
	}
	var names []string
	for _, m := range bench.Modes() {
		names = append(names, m.Name)
	}
	return names
}

// overheadRun runs one transfer of mode, profiled in view (unprofiled when
// view is ""), and returns its GiB/s and the samples the profiler lost.
func overheadRun(b *testing.B, mode string, size int64, view string) (float64, uint64) {
	o := bench.DefaultOptions()
	o.Mode, o.Bytes, o.Repeat = mode, size, 1
	var p *profile.Profiler
	var obs bench.Observer
	if view != "" {
		var err error
		if p, err = profile.New(profile.Config{FreqHz: 999, Mode: mode, View: view}); err != nil {
			b.Fatal(err)
		}
		obs = p
	}
	res, err := bench.Run(context.Background(), o, obs, nil)
	if err != nil {
		b.Fatalf("%s %s: %v", mode, view, err)
	}
	var lost uint64
	if p != nil {
		for _, r := range p.Result().Roles {
			if r.Samples == 0 {
				b.Fatalf("%s %s: %s: no samples", mode, view, r.Name)
			}
			lost += r.Lost
		}
	}
	return res.Runs[0].GiBPerSec, lost
}

// median returns the median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// fmtRatios lists rs sorted, two decimals each.
func fmtRatios(rs []float64) string {
	var parts []string
	for _, r := range slices.Sorted(slices.Values(rs)) {
		parts = append(parts, fmt.Sprintf("%.2f", r))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
