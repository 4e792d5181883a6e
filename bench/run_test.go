package bench

import (
	"context"
	"testing"
)

// small returns options for a quick real run of mode.
func small(mode string) Options {
	o := DefaultOptions()
	o.Mode = mode
	o.Bytes = 64 << 20
	o.Repeat = 2
	return o
}

func TestEveryModeMovesExactBytes(t *testing.T) {
	for _, m := range Modes() {
		t.Run(m.Name, func(t *testing.T) {
			res, err := Run(context.Background(), small(m.Name), nil, nil)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(res.Runs) != 2 {
				t.Fatalf("got %d runs, want 2", len(res.Runs))
			}
			for i, r := range res.Runs {
				if r.Bytes != 64<<20 || r.Reader.Bytes != 64<<20 {
					t.Errorf("run %d: reader got %d bytes (report %d), want %d", i, r.Bytes, r.Reader.Bytes, 64<<20)
				}
				if r.Writer.Bytes < r.Bytes {
					t.Errorf("run %d: writer moved %d bytes, fewer than the reader's %d", i, r.Writer.Bytes, r.Bytes)
				}
				if r.GiBPerSec <= 0 {
					t.Errorf("run %d: got %v GiB/s, want > 0", i, r.GiBPerSec)
				}
			}
			med, lo, hi := res.GiBPerSec()
			if !(0 < lo && lo <= med && med <= hi) {
				t.Errorf("got min %v median %v max %v, want 0 < min <= median <= max", lo, med, hi)
			}
			t.Logf("%s: median %.2f GiB/s (min %.2f, max %.2f)", m.Name, med, lo, hi)
		})
	}
}
