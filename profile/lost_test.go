package profile

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	perf "github.com/elastic/go-perf"
	"golang.org/x/sys/unix"

	"github.com/pipelab/pipelab/internal/testenv"
)

// TestLostSamplesSurface overflows a real one-page ring and checks that
// the kernel's PERF_RECORD_LOST count reaches Role.Lost, a warning, and a
// [lost] frame in the profile.
func TestLostSamplesSurface(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p, err := New(Config{FreqHz: 999, Mode: "write"})
	if err != nil {
		t.Fatal(err)
	}
	attr := samplingAttr(EventCPUClock, 20000)
	ev, err := perf.Open(&attr, unix.Gettid(), perf.AnyCPU, nil)
	testenv.Require(t, err, "perf events")
	defer ev.Close()
	if err := ev.MapRingNumPages(1); err != nil {
		t.Fatal(err)
	}
	reader := p.roles[1]
	ev.Enable()
	busySyscalls(100 * time.Millisecond) // fills the ring many times over
	drainInto(p, reader, ev, 2)          // make room: the kernel writes LOST next
	busySyscalls(20 * time.Millisecond)
	ev.Disable()
	drainInto(p, reader, ev, -1)

	res := p.Result()
	r := res.Roles[1]
	if r.Lost == 0 {
		t.Fatalf("reader: 0 samples lost from a one-page ring at 20 kHz (%d samples)", r.Samples)
	}
	want := fmt.Sprintf("reader: %d samples lost", r.Lost)
	if !slices.Contains(res.Warnings, want) {
		t.Errorf("warnings %q: want %q", res.Warnings, want)
	}
	q := parseBack(t, r.Profile)
	last := q.Sample[len(q.Sample)-1]
	if names := frameNames(last); !slices.Equal(names, []string{"[lost]"}) || last.Value[0] != int64(r.Lost) {
		t.Errorf("last sample: got %v %v, want [lost] with %d samples", names, last.Value, r.Lost)
	}
}

// drainInto feeds up to n records (all when n < 0) of ev to role r.
func drainInto(p *Profiler, r *roleState, ev *perf.Event, n int) {
	var raw perf.RawRecord
	for ; n != 0 && ev.HasRecord(); n-- {
		if ev.ReadRawRecord(expiredCtx(), &raw) != nil {
			return
		}
		p.handle(r, -1, recordFormat{}, &raw)
	}
}
