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

// BenchmarkConsumeVia measures the two ways a consuming splice reader can
// take the pipe's bytes into its memory (consume.go): read(2), and
// vmsplice(2) from the pipe's read end, for each splice mode, run
// interleaved (one transfer of each way in turn, 1GiB, --consume). It
// reports each way's median GiB/s and vmsplice's over read's; run it
// with -benchtime 1x. consumeReader is the way that won here
// (docs/ceiling.md has the figures).
func BenchmarkConsumeVia(b *testing.B) {
	for _, mode := range []string{"splice", "huge", "busy"} {
		b.Run(mode, func(b *testing.B) {
			o := DefaultOptions()
			o.Mode, o.Bytes, o.Repeat, o.Consume = mode, 1<<30, 1, true
			all := map[string]*Result{"read": {Options: o}, "vmsplice": {Options: o}}
			for b.Loop() {
				for round := 0; round < 5; round++ {
					for _, via := range []string{"read", "vmsplice"} {
						b.Setenv(envConsumeVia, via)
						res, err := Run(context.Background(), o, nil, nil)
						if err != nil {
							b.Fatalf("Run %s via %s: %v", mode, via, err)
						}
						if got, want := res.Runs[0].Reader.Consumed, true; got != want {
							b.Fatalf("%s via %s: reader did not consume", mode, via)
						}
						all[via].Merge(res)
					}
				}
			}
			r, _, _ := all["read"].GiBPerSec()
			v, _, _ := all["vmsplice"].GiBPerSec()
			b.ReportMetric(r, "read-GiB/s")
			b.ReportMetric(v, "vmsplice-GiB/s")
			b.ReportMetric(v/r, "vmsplice-x-read")
			b.ReportMetric(float64(len(all["read"].Runs)), "runs-each")
		})
	}
}
