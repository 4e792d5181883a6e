package result_test

import (
	"testing"

	"github.com/pipelab/pipelab/result"
)

func TestCostLine(t *testing.T) {
	tests := []struct {
		name string
		o    result.Cost
		want string
	}{
		{"slower", result.Cost{ProfiledMedianGiBs: 9.12, UnprofiledMedianGiBs: 9.5, Ratio: 0.96, Runs: 3},
			"profiling cost: 4% of throughput (9.12 vs 9.50 GiB/s, 3+3 interleaved runs)"},
		{"faster", result.Cost{ProfiledMedianGiBs: 1.40, UnprofiledMedianGiBs: 1.26, Ratio: 1.11, Runs: 1},
			"profiling cost: none measurable, the profiled runs were 11% faster (1.40 vs 1.26 GiB/s, 1+1 interleaved runs)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.Line(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
