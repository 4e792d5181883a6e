package result_test

import (
	"testing"

	"github.com/pipelab/pipelab/result"
)

// TestCostLine words the cost only when benchmath's U test tells the
// profiled runs from the unprofiled ones; with overlapping runs, or too
// few to tell anything, it says the cost could not be told from the noise
// and gives each kind's median and range.
func TestCostLine(t *testing.T) {
	slow := []float64{8.9, 9.0, 9.1, 8.8, 9.2, 9.0}
	fast := []float64{10.0, 9.9, 10.1, 10.2, 9.8, 10.0}
	mixed := []float64{9.0, 10.1, 9.4, 9.9, 9.6, 10.3}
	tests := []struct {
		name string
		o    result.Cost
		want string
	}{
		{"slower", result.Cost{ProfiledMedianGiBs: 9.0, UnprofiledMedianGiBs: 10.0, Ratio: 0.9, Runs: 6, ProfiledGiBs: slow, UnprofiledGiBs: fast},
			"profiling cost: 10% of throughput (9.00 vs 10.00 GiB/s, p=0.002, 6+6 interleaved runs)"},
		{"faster", result.Cost{ProfiledMedianGiBs: 10.0, UnprofiledMedianGiBs: 9.0, Ratio: 1.11, Runs: 6, ProfiledGiBs: fast, UnprofiledGiBs: slow},
			"profiling cost: none, the profiled runs were 11% faster (10.00 vs 9.00 GiB/s, p=0.002, 6+6 interleaved runs)"},
		{"noise", result.Cost{ProfiledMedianGiBs: 9.75, UnprofiledMedianGiBs: 10.0, Ratio: 0.975, Runs: 6, ProfiledGiBs: mixed, UnprofiledGiBs: fast},
			"profiling cost: not told from the noise (profiled 9.75 (9.00-10.30), unprofiled 10.00 (9.80-10.20) GiB/s; p=0.39, 6+6 interleaved runs)"},
		{"one each", result.Cost{ProfiledMedianGiBs: 0.93, UnprofiledMedianGiBs: 0.79, Ratio: 1.18, Runs: 1, ProfiledGiBs: []float64{0.93}, UnprofiledGiBs: []float64{0.79}},
			"profiling cost: not told from the noise with 1+1 interleaved runs (profiled 0.93, unprofiled 0.79 GiB/s; 4+4 or more can tell)"},
		{"three each", result.Cost{ProfiledMedianGiBs: 9.0, UnprofiledMedianGiBs: 10.0, Ratio: 0.9, Runs: 3, ProfiledGiBs: slow[:3], UnprofiledGiBs: fast[:3]},
			"profiling cost: not told from the noise with 3+3 interleaved runs (profiled 9.00 (8.90-9.10), unprofiled 10.00 (9.90-10.10) GiB/s; 4+4 or more can tell)"},
		{"old file, few runs", result.Cost{ProfiledMedianGiBs: 1.40, UnprofiledMedianGiBs: 1.26, Ratio: 1.11, Runs: 1},
			"profiling cost: not told from the noise with 1+1 interleaved runs (profiled 1.40, unprofiled 1.26 GiB/s; 4+4 or more can tell)"},
		{"old file", result.Cost{ProfiledMedianGiBs: 9.12, UnprofiledMedianGiBs: 9.5, Ratio: 0.96, Runs: 6},
			"profiling cost: 4% of throughput (9.12 vs 9.50 GiB/s, 6+6 interleaved runs)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.Line(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
