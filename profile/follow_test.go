package profile

import (
	"reflect"
	"testing"

	perf "github.com/elastic/go-perf"
	"github.com/pipelab/pipelab/result"
)

// TestFollowFilters checks the two kernel filters of the wake-up
// recording: the CPU-wide events pass the attached threads as wakees,
// the inherited per-task events every other wakee, so that together they
// see each wake-up of a followed thread once.
func TestFollowFilters(t *testing.T) {
	for _, tc := range []struct {
		tids           []int
		attached, rest string
	}{
		{nil, "", ""},
		{[]int{42}, "pid == 42", "pid != 42"},
		{[]int{42, 43, 7}, "pid == 42 || pid == 43 || pid == 7", "pid != 42 && pid != 43 && pid != 7"},
	} {
		if got := pidFilter(tc.tids); got != tc.attached {
			t.Errorf("pidFilter(%v): got %q, want %q", tc.tids, got, tc.attached)
		}
		if got := exceptFilter(tc.tids); got != tc.rest {
			t.Errorf("exceptFilter(%v): got %q, want %q", tc.tids, got, tc.rest)
		}
	}
}

// TestFollowDescendants replays the wake-ups of a writer command's
// pipeline: the attached shell (pid 100) forked two cats (200 and 300);
// cat 300 sleeps twice, woken once by cat 200 and once by the reader
// (pid 500). The wake-ups come in before the fork records that name the
// cats' parents (as when the wake ring is read before the sampler ring
// of the parent's CPU), and a wake-up cat 200 did of a task nobody
// follows (900) is in the ring as well: the join gives both sleeps their
// waker by role, and the stranger's wake-up to nobody.
func TestFollowDescendants(t *testing.T) {
	l := wakingLayout(t)
	writer, reader := &roleState{name: "writer"}, &roleState{name: "reader"}
	p := &Profiler{pidRole: map[uint32]*roleState{100: writer, 500: reader}, tasks: newTasks()}
	rec := &wakeRecorder{layout: l, wakee: map[uint32]bool{100: true, 500: true}, byTid: map[uint32][]wake{}, filter: true}
	we := &wakeEvent{}
	user := []uint64{contextKernel, 0xffffffff81000010, contextUser, 0x401000}
	for _, b := range [][]byte{
		wakeBody(200, 200, 2500, user, 300, 0), // ends sleep 1: the other cat
		wakeBody(200, 200, 2600, user, 900, 0), // a stranger's wake-up
		wakeBody(500, 501, 5200, user, 300, 0), // ends sleep 2: the reader
	} {
		raw := perf.RawRecord{Header: perf.RecordHeader{Type: perf.RecordTypeSample}, Data: b}
		p.handleWake(rec, we, &raw)
	}
	// The fork records come in only now.
	p.tasks.parent[200], p.tasks.parent[300] = 100, 100
	p.wake.rec = rec

	tl := newTimeline(300, 300, 1000)
	tl.switchOut(2000, false) // sleep 1: 2000..3000
	tl.switchIn(3000)
	tl.switchOut(5000, false) // sleep 2: 5000..6000
	tl.switchIn(6000)
	tl.stop(7000)
	p.joinWakes(tl)
	f := tl.wake.figures(0)
	want := []result.WakerShare{
		{Waker: "reader", Sleeps: 1, SleepNanos: 1000, WakeupNanos: 800},
		{Waker: "writer", Sleeps: 1, SleepNanos: 1000, WakeupNanos: 500},
	}
	if !reflect.DeepEqual(f.Wakers, want) {
		t.Errorf("wakers\ngot  %+v\nwant %+v", f.Wakers, want)
	}
	if f.WaitingNanos != 500+200 || f.WakeupNanos != 500+800 {
		t.Errorf("waiting %d, wake-up %d; want 700, 1300", f.WaitingNanos, f.WakeupNanos)
	}
	for _, st := range tl.wake.order {
		if len(st.chain) != len(user) {
			t.Errorf("waker %s pid %d: chain of %d entries, want the %d of its kernel and user stack", st.waker, st.pid, len(st.chain), len(user))
		}
	}

	// Without the kernel's filter the CPU-wide events see every wake-up
	// on their CPUs: only the attached threads' are kept.
	rec = &wakeRecorder{layout: l, wakee: map[uint32]bool{100: true}, byTid: map[uint32][]wake{}}
	for _, wakee := range []uint32{100, 300, 900} {
		raw := perf.RawRecord{Header: perf.RecordHeader{Type: perf.RecordTypeSample}, Data: wakeBody(500, 501, 1, nil, wakee, 0)}
		p.handleWake(rec, we, &raw)
	}
	if len(rec.byTid) != 1 || len(rec.byTid[100]) != 1 {
		t.Errorf("unfiltered: kept the wake-ups of %v, want one of tid 100", rec.byTid)
	}
}
