package profile_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	perf "github.com/elastic/go-perf"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/internal/testenv"
)

// TestMain lets the test binary act as the writer and the reader of a
// bench.Run, which re-executes it the way pipelab re-executes itself, and
// fails the run if any test left a child process behind.
func TestMain(m *testing.M) {
	bench.Child() // the writer or the reader of a bench.Run; returns otherwise
	code := m.Run()
	if code == 0 {
		if kids := testenv.Children(os.Getpid()); len(kids) > 0 {
			fmt.Fprintf(os.Stderr, "tests left child processes running: %v\n", kids)
			code = 1
		}
	}
	os.Exit(code)
}

// runPair runs one bench.Run of mode ("write" or "splice"), bytes long,
// with the default pinning, under obs.
func runPair(t *testing.T, mode string, bytes int64, obs bench.Observer) *bench.Result {
	t.Helper()
	o := bench.DefaultOptions()
	o.Mode, o.Bytes, o.Repeat = mode, bytes, 1
	res, err := bench.Run(context.Background(), o, obs, nil)
	if err != nil {
		t.Fatalf("bench.Run %s: %v", mode, err)
	}
	return res
}

// mustHavePerfEvents skips unless cpu-clock sampling with a ring works
// here; with PIPELAB_REQUIRE_PERF=1 it fails instead.
func mustHavePerfEvents(t testing.TB) {
	t.Helper()
	attr := perf.Attr{Type: perf.SoftwareEvent, Config: uint64(perf.CPUClock),
		SampleFormat: perf.SampleFormat{Callchain: true}}
	attr.SetSamplePeriod(1000000)
	ev, err := perf.Open(&attr, 0, perf.AnyCPU, nil)
	if err == nil {
		err = ev.MapRingNumPages(1)
		ev.Close()
	}
	testenv.Require(t, err, "perf events")
}
