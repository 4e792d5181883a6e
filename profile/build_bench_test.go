package profile

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// syntheticRing returns n sample records, as the kernel lays them out in
// the ring, drawn from `distinct` stacks of 20 kernel and 10 user frames.
func syntheticRing(n, distinct int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	kernel := []uint64{0xffffffff81bafa90, 0xffffffff816e4250, 0xffffffff816d5d00, 0xffffffff816d6310, 0xffffffffc0a10020}
	user := userPC()
	stacks := make([][]byte, distinct)
	for i := range stacks {
		chain := []uint64{contextKernel}
		for j := 0; j < 20; j++ {
			chain = append(chain, kernel[rng.IntN(len(kernel))]+uint64(rng.IntN(64)))
		}
		chain = append(chain, contextUser)
		for j := 0; j < 10; j++ {
			chain = append(chain, user+uint64(rng.IntN(32)))
		}
		stacks[i] = sampleBytes(100, 101+uint32(i%2), 1001001, chain...)
	}
	var ring []byte
	for i := 0; i < n; i++ {
		ring = append(ring, stacks[rng.IntN(distinct)]...)
	}
	return ring
}

// BenchmarkBuild decodes synthetic ring records, aggregates them and
// builds a symbolized pprof profile: the profiler's whole path after the
// ring. It reports samples/s (target: at least a million on one core).
// The sub-benchmarks vary the samples and the distinct stacks apart, so
// that B/op shows memory growing with distinct stacks, not with samples:
//
//	go test -run '^$' -bench Build -benchmem -cpu 1 ./profile
func BenchmarkBuild(b *testing.B) {
	for _, c := range []struct{ samples, stacks int }{
		{100000, 1000}, {1000000, 1000}, {100000, 10000},
	} {
		b.Run(fmt.Sprintf("samples=%d/stacks=%d", c.samples, c.stacks), func(b *testing.B) {
			benchmarkBuild(b, c.samples, c.stacks)
		})
	}
}

// benchmarkBuild feeds n samples of distinct stacks per iteration: a ring
// of at most 100000 records, read as many times as it takes.
func benchmarkBuild(b *testing.B, n, distinct int) {
	sym, _ := fixtureSymbolizer(b)
	ring := syntheticRing(min(n, 100000), distinct)
	passes := max(1, n/100000)
	build := func() {
		agg := newAggregator()
		var r record
		for range passes {
			for off := 0; off < len(ring); {
				size, err := decodeRecord(ring[off:], &r)
				if err != nil {
					b.Fatal(err)
				}
				off += size
				agg.add(r.pid, r.tid, r.chain, 1, int64(r.period), 0)
			}
		}
		p := buildProfile(sym, buildInput{role: "writer", mode: "write", stacks: agg.order, periodNS: 1001001})
		if len(p.Sample) != distinct {
			b.Fatalf("got %d samples, want %d", len(p.Sample), distinct)
		}
	}
	build() // loads the symbol tables, which the profiler keeps across runs
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		build()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// TestAggregatorMemoryGrowsWithStacks checks that samples of stacks seen
// before allocate nothing.
func TestAggregatorMemoryGrowsWithStacks(t *testing.T) {
	ring := syntheticRing(2000, 50)
	agg := newAggregator()
	feed := func() {
		var r record
		for off := 0; off < len(ring); {
			size, _ := decodeRecord(ring[off:], &r)
			off += size
			agg.add(r.pid, r.tid, r.chain, 1, int64(r.period), 0)
		}
	}
	feed()
	if allocs := testing.AllocsPerRun(10, feed); allocs != 0 {
		t.Errorf("got %.0f allocations per 2000 repeated samples, want 0", allocs)
	}
	if len(agg.order) != 50 {
		t.Errorf("got %d stacks, want 50", len(agg.order))
	}
}
