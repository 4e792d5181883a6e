package svg

import "testing"

func TestNiceScale(t *testing.T) {
	tests := []struct{ max, step, top float64 }{
		{62.5, 20, 80}, {11.18, 5, 15}, {0.9, 0.2, 1}, {0, 1, 1},
	}
	for _, tt := range tests {
		step, top := NiceScale(tt.max)
		if step != tt.step || top != tt.top {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", tt.max, step, top, tt.step, tt.top)
		}
	}
}
