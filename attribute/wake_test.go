package attribute

import (
	"strings"
	"testing"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/result"
)

// wakersFixture is a wakers profile of the writer: the reader woke it
// from anon_pipe_read for 90ms of sleep, an interrupt for 10ms.
func wakersFixture() *pprof.Profile {
	km := &pprof.Mapping{ID: 1, File: "[kernel.kallsyms]", HasFunctions: true}
	var locs []*pprof.Location
	loc := func(name string) *pprof.Location {
		id := uint64(len(locs) + 1)
		l := &pprof.Location{ID: id, Mapping: km, Line: []pprof.Line{{Function: &pprof.Function{ID: id, Name: name}}}}
		locs = append(locs, l)
		return l
	}
	ttwu, wake, read, timer := loc("try_to_wake_up"), loc("__wake_up_sync_key"), loc("anon_pipe_read"), loc("hrtimer_wakeup")
	return &pprof.Profile{
		SampleType: []*pprof.ValueType{{Type: "wakeups", Unit: "count"}, {Type: "wakeup", Unit: "nanoseconds"}, {Type: "sleep", Unit: "nanoseconds"}},
		Sample: []*pprof.Sample{
			{Location: []*pprof.Location{ttwu, wake, read}, Value: []int64{90, 40e6, 90e6}, Label: map[string][]string{"role": {"writer"}, "waker": {"reader"}}},
			{Location: []*pprof.Location{ttwu, timer}, Value: []int64{1, 5e6, 10e6}, Label: map[string][]string{"role": {"writer"}, "waker": {"interrupt"}}},
		},
		Mapping: []*pprof.Mapping{km}, Location: locs,
	}
}

func TestWakerSites(t *testing.T) {
	got := WakerSites(wakersFixture())
	if got["reader"] != "anon_pipe_read → __wake_up_sync_key" || got["interrupt"] != "hrtimer_wakeup → try_to_wake_up" {
		t.Errorf("got %q", got)
	}
}

func TestWakeSentenceAndChange(t *testing.T) {
	w := WallRole{Role: "writer", OffCPUNanos: 100e6, WakeupsPerGiB: 4096, Wake: &result.WakeSummary{
		WaitingNanos: 55e6, WakeupNanos: 45e6, Sleeps: 91, LatencyMedianNanos: 39e3, LatencyP90Nanos: 60e3, LatencyP99Nanos: 130e3,
		Wakers: []result.WakerShare{{Waker: "reader", Sleeps: 90, SleepNanos: 90e6, From: "anon_pipe_read → __wake_up_sync_key"}, {Waker: "interrupt", Sleeps: 1, SleepNanos: 10e6}},
	}}
	got := WakeSentence(w)
	for _, want := range []string{"slept 100.00ms", "4096 sleeps/GiB", "90.00% woken by the reader from anon_pipe_read → __wake_up_sync_key",
		"wake-up latency median 39.00us (p90 60.00us, p99 130.00us)", "45.00% of off-CPU time"} {
		if !strings.Contains(got, want) {
			t.Errorf("sentence %q lacks %q", got, want)
		}
	}
	self := WallRole{Role: "writer", Wake: &result.WakeSummary{WaitingNanos: 10e6, Sleeps: 2,
		Wakers: []result.WakerShare{{Waker: "writer", Sleeps: 2, SleepNanos: 10e6, From: "do_exit → do_notify_parent"}}}}
	if got, want := WakeSentence(self), "100.00% woken by the writer itself from do_exit → do_notify_parent"; !strings.Contains(got, want) {
		t.Errorf("a role woken by one of its own processes: %q lacks %q", got, want)
	}
	if s := WakeSentence(WallRole{Role: "writer"}); s != "" {
		t.Errorf("without wake-ups: %q, want empty", s)
	}
	a := []WallRole{{Role: "writer", WallNanosPerGiB: 1e9, Wake: w.Wake, WakeupNanosPerGiB: 4e8}}
	b := []WallRole{{Role: "writer", WallNanosPerGiB: 5e8, Wake: w.Wake, WakeupNanosPerGiB: 1e8}}
	if c := WallChanges(a, b); len(c) != 1 || c[0].RemovedWakeup != 0.75 {
		t.Errorf("changes %+v, want RemovedWakeup 0.75", c)
	}
}
