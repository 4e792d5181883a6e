package bench

import (
	"context"
	"testing"
)

// BenchmarkModes runs every mode of the ladder for real, as `make bench`
// does: 1GiB through the pipe, 5 runs per iteration, children pinned as by
// default. It reports the median, minimum and maximum GiB/s over all runs
// of all iterations (run it with -benchtime 1x); compare them with the C
// build's figures in docs/measurements.md. The last sub-benchmark, busy,
// also reports busy-x-write, its median over write's.
func BenchmarkModes(b *testing.B) {
	medians := map[string]float64{}
	for _, m := range Modes() {
		b.Run(m.Name, func(b *testing.B) {
			o := DefaultOptions()
			o.Mode = m.Name
			o.Bytes = 1 << 30
			o.Repeat = 5
			all := &Result{Options: o}
			for b.Loop() {
				res, err := Run(context.Background(), o, nil, nil)
				if err != nil {
					b.Fatalf("Run %s: %v", m.Name, err)
				}
				all.Runs = append(all.Runs, res.Runs...)
			}
			med, lo, hi := all.GiBPerSec()
			medians[m.Name] = med
			b.ReportMetric(med, "GiB/s")
			b.ReportMetric(lo, "min-GiB/s")
			b.ReportMetric(hi, "max-GiB/s")
			b.ReportMetric(float64(len(all.Runs)), "runs")
			if m.Name == "busy" && medians["write"] > 0 {
				b.ReportMetric(med/medians["write"], "busy-x-write")
			}
		})
	}
}
