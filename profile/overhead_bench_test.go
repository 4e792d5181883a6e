package profile_test

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/profile"
	"golang.org/x/sys/unix"
)

var (
	overheadBytes  = flag.String("overhead.bytes", "1GiB", "bytes piped per run by BenchmarkOverhead")
	overheadRounds = flag.Int("overhead.rounds", 7, "interleaved rounds of BenchmarkOverhead")
	overheadModes  = flag.String("overhead.modes", "", "comma-separated modes for BenchmarkOverhead (default all)")
	overheadFreq   = flag.Int("overhead.freq", 999, "sampling frequency of BenchmarkOverhead's profiled runs, in Hz (the target is for the default, 999)")
	overheadParts  = flag.Bool("overhead.parts", false, "BenchmarkOverhead also measures the counters alone and the sampling alone")
)

// overheadPartNames are the halves of profiling -overhead.parts measures
// on their own (see profile.PartObserver).
var overheadPartNames = []string{"counters", "sampling"}

// overheadViews are the profile views BenchmarkOverhead measures; a view
// that profile.New refuses on this build is skipped with a log line.
var overheadViews = []string{"cpu", "wall"}

// BenchmarkOverhead measures how much profiling slows the transfer it
// profiles: for every mode, throughput under bench.Run with a
// profile.Profiler at the default 999 Hz (or -overhead.freq) divided by
// throughput of the same run without an observer. Each round runs every
// variant of a mode back to back, in an order that rotates from round to
// round, and the ratio is taken within the round, so load that comes and
// goes on the machine touches both sides of a ratio alike. It reports the
// median ratio per mode and view ("write-ratio" for the cpu view,
// "write-wall-ratio"), the median GiB/s without profiling ("write-GiB/s"),
// and the samples lost over all profiled runs ("lost"); the target is a
// ratio of at least 0.95. It also reports what profiling costs in the
// children's CPU time per GiB (user + system, from getrusage of the reaped
// children), profiled over unprofiled ("write-cputime-ratio"): a figure
// that other load on the machine disturbs much less than throughput, since
// it does not count time spent waiting for a CPU. With -overhead.parts it
// also runs each half of profiling on its own, the counters on every thread
// without sampling ("write-counters-ratio") and the cpu-clock sampling
// without counters ("write-sampling-ratio"), to show where the cost lies.
// Run it alone, as the throughput ratio is only as good as the machine is
// quiet:
//
//	go test -run '^$' -bench Overhead -benchtime 1x ./profile [-args -overhead.parts]
func BenchmarkOverhead(b *testing.B) {
	mustHavePerfEvents(b)
	size, err := bench.ParseSize(*overheadBytes)
	if err != nil {
		b.Fatal(err)
	}
	variants := []string{""} // "" runs without an observer
	for _, view := range overheadViews {
		if _, err := profile.New(profile.Config{FreqHz: *overheadFreq, View: view}); err != nil {
			b.Logf("view %s not measured: %v", view, err)
			continue
		}
		variants = append(variants, view)
	}
	if *overheadParts {
		variants = append(variants, overheadPartNames...)
	}
	modes := overheadModeNames()
	ratios := map[string][]float64{}    // throughput, by mode and view
	cpuRatios := map[string][]float64{} // CPU time per GiB, by mode and view
	base := map[string][]float64{}      // GiB/s without observer, by mode
	var lost uint64
	for i := 0; i < b.N*(*overheadRounds); i++ {
		for _, mode := range modes {
			got := map[string]overheadFigures{}
			for j := range variants {
				view := variants[(i+j)%len(variants)]
				f := overheadRun(b, mode, size, view)
				got[view] = f
				lost += f.lost
			}
			base[mode] = append(base[mode], got[""].gibPerSec)
			for _, view := range variants[1:] {
				k := mode + " " + view
				ratios[k] = append(ratios[k], got[view].gibPerSec/got[""].gibPerSec)
				cpuRatios[k] = append(cpuRatios[k], got[view].cpuPerGiB/got[""].cpuPerGiB)
			}
		}
	}
	// One log line per mode: testing cuts a benchmark's log after ten
	// lines unless run with -v.
	for _, mode := range modes {
		b.ReportMetric(median(base[mode]), mode+"-GiB/s")
		line := fmt.Sprintf("%-13s ratio (range) / CPU time per GiB ratio:", mode)
		for _, view := range variants[1:] {
			name := mode
			if view != "cpu" {
				name += "-" + view
			}
			r, c := ratios[mode+" "+view], cpuRatios[mode+" "+view]
			b.ReportMetric(median(r), name+"-ratio")
			b.ReportMetric(median(c), name+"-cputime-ratio")
			line += fmt.Sprintf("  %s %.3f (%s) / %.3f", view, median(r), fmtRange(r), median(c))
		}
		b.Log(line)
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

// overheadFigures are what one run of BenchmarkOverhead measured.
type overheadFigures struct {
	gibPerSec float64
	cpuPerGiB float64 // the children's user + system seconds per GiB
	lost      uint64  // samples the profiler lost
}

// overheadRun runs one transfer of mode, profiled in view (unprofiled when
// view is "", under one part of profiling when view is a part's name).
func overheadRun(b *testing.B, mode string, size int64, view string) overheadFigures {
	o := bench.DefaultOptions()
	o.Mode, o.Bytes, o.Repeat = mode, size, 1
	var p *profile.Profiler
	var obs bench.Observer
	if slices.Contains(overheadPartNames, view) {
		obs = profile.NewPartObserver(view, *overheadFreq)
	} else if view != "" {
		var err error
		if p, err = profile.New(profile.Config{FreqHz: *overheadFreq, Mode: mode, View: view}); err != nil {
			b.Fatal(err)
		}
		obs = p
	}
	before := childrenCPU(b)
	res, err := bench.Run(context.Background(), o, obs, nil)
	if err != nil {
		b.Fatalf("%s %s: %v", mode, view, err)
	}
	f := overheadFigures{
		gibPerSec: res.Runs[0].GiBPerSec,
		cpuPerGiB: (childrenCPU(b) - before).Seconds() / (float64(res.Runs[0].Bytes) / (1 << 30)),
	}
	if p != nil {
		for _, r := range p.Result().Roles {
			if r.Samples == 0 {
				b.Fatalf("%s %s: %s: no samples", mode, view, r.Name)
			}
			f.lost += r.Lost
		}
	}
	return f
}

// childrenCPU returns the user + system time of this process's reaped
// children so far (their start-up included, alike in both variants).
func childrenCPU(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_CHILDREN, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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

// fmtRange gives the smallest and the largest of rs, two decimals each.
func fmtRange(rs []float64) string {
	if len(rs) == 0 {
		return "none"
	}
	return fmt.Sprintf("%.2f-%.2f", slices.Min(rs), slices.Max(rs))
}
