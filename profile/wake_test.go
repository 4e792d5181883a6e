package profile

import (
	"encoding/binary"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/result"
)

// Hermetic tests of the wake-up recording: the format file of
// sched_waking as Linux 6.18 writes it (testdata/sched_waking.format),
// synthetic wake samples, and the join with recorded switch timelines.

// wakingFormat parses testdata/sched_waking.format.
func wakingFormat(t testing.TB) tracepointFormat {
	t.Helper()
	f, err := os.Open("testdata/sched_waking.format")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tf, err := parseFormat(f)
	if err != nil {
		t.Fatal(err)
	}
	return tf
}

func wakingLayout(t testing.TB) wakeLayout {
	t.Helper()
	l, err := layoutFromFormat(wakingFormat(t))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestParseFormat(t *testing.T) {
	tf := wakingFormat(t)
	if tf.name != "sched_waking" {
		t.Errorf("name %q, want sched_waking", tf.name)
	}
	want := map[string]field{
		"common_type": {0, 2, false}, "common_flags": {2, 1, false}, "common_preempt_count": {3, 1, false},
		"common_pid": {4, 4, true}, "comm": {8, 16, false}, "pid": {24, 4, true}, "prio": {28, 4, true}, "target_cpu": {32, 4, true},
	}
	if !reflect.DeepEqual(tf.fields, want) {
		t.Errorf("fields\ngot  %v\nwant %v", tf.fields, want)
	}
	if _, err := layoutFromFormat(tracepointFormat{name: "x", fields: map[string]field{"common_flags": {2, 1, false}}}); err == nil || !strings.Contains(err.Error(), "pid") {
		t.Errorf("format without pid: got %v, want an error naming pid", err)
	}
	if _, err := parseFormat(strings.NewReader("\tfield:int x;\toffset:zz;\tsize:4;\n")); err == nil {
		t.Error("bad offset: got no error")
	}
}

func TestTracefsFromMounts(t *testing.T) {
	for _, tc := range []struct{ mounts, want string }{
		{"proc /proc proc rw 0 0\nnodev /sys/kernel/tracing tracefs rw,relatime 0 0\n", "/sys/kernel/tracing"},
		{"nodev /mnt/my\\040trace tracefs rw 0 0\n", "/mnt/my trace"},
		{"proc /proc proc rw 0 0\n", ""},
		{"", ""},
	} {
		got, err := tracefsFromMounts(strings.NewReader(tc.mounts))
		if err != nil || got != tc.want {
			t.Errorf("tracefsFromMounts(%q) = %q, %v; want %q", tc.mounts, got, err, tc.want)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	got, err := parseCPUList("0-2,5,7-8")
	if want := []int{0, 1, 2, 5, 7, 8}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"a", "3-1", "1-x"} {
		if _, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q): no error", bad)
		}
	}
}

// wakeBody encodes a wake sample body: waker pid/tid, time, callchain,
// and a sched_waking payload for wakee with common_flags flags.
func wakeBody(wakerPID, wakerTID uint32, tNS uint64, chain []uint64, wakee uint32, flags byte) []byte {
	b := le64(nil, 0xffffffff81000000)
	b = binary.LittleEndian.AppendUint32(b, wakerPID)
	b = binary.LittleEndian.AppendUint32(b, wakerTID)
	b = le64(b, tNS, uint64(len(chain)))
	b = le64(b, chain...)
	raw := make([]byte, 36)
	binary.LittleEndian.PutUint16(raw, 375)
	raw[2] = flags
	copy(raw[8:], "pipelab")
	binary.LittleEndian.PutUint32(raw[24:], wakee)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(raw)))
	return append(append(b, raw...), 0, 0, 0, 0) // padded to 8 bytes
}

func TestDecodeWake(t *testing.T) {
	l := wakingLayout(t)
	chain := []uint64{contextKernel, 0xffffffff81000010, 0xffffffff81000020, contextUser, 0x401000}
	var w wakeSample
	if err := decodeWake(wakeBody(7, 8, 12345, chain, 101, 0), l, &w); err != nil {
		t.Fatal(err)
	}
	if w.wakerPID != 7 || w.wakerTID != 8 || w.timeNS != 12345 || w.wakee != 101 || w.irq || len(w.chain) != 5*8 {
		t.Errorf("got %+v", w)
	}
	if k := kernelPart(w.chain); len(k) != 3*8 {
		t.Errorf("kernel part of %d bytes, want 24", len(k))
	}
	if err := decodeWake(wakeBody(7, 8, 1, nil, 101, traceFlagHardIRQ), l, &w); err != nil || !w.irq {
		t.Errorf("hard irq: irq %v, err %v; want true, nil", w.irq, err)
	}
	body := wakeBody(7, 8, 1, chain, 101, 0)
	for _, n := range []int{0, 20, 40, 80, len(body) - 20} {
		if err := decodeWake(body[:n], l, &w); err == nil {
			t.Errorf("body cut to %d of %d bytes: no error", n, len(body))
		}
	}
}

func FuzzDecodeWake(f *testing.F) {
	l := wakingLayout(f)
	f.Add(wakeBody(7, 8, 12345, []uint64{contextKernel, 0xffffffff81000010}, 101, 0))
	f.Add(wakeBody(0, 0, 1, nil, 5, traceFlagSoftIRQ))
	f.Fuzz(func(t *testing.T, b []byte) {
		var w wakeSample
		if err := decodeWake(b, l, &w); err != nil {
			return
		}
		if len(w.chain)%8 != 0 || len(w.chain) > len(b) {
			t.Fatalf("chain of %d bytes from %d", len(w.chain), len(b))
		}
		kernelPart(w.chain)
	})
}

// TestWakeJoin replays a thread that sleeps three times and is preempted
// once: woken by the reader, by an interrupt after a spurious early
// wake-up, and once with no wake-up recorded.
func TestWakeJoin(t *testing.T) {
	tl := newTimeline(pid, tid, 1000)
	chain := func(v uint64) []byte { return le64(nil, contextKernel, v) }
	tl.sample(chain(0xa))
	tl.switchOut(2000, false) // sleep 1: 2000..3000
	tl.switchIn(3000)
	tl.switchOut(4000, false) // sleep 2: 4000..6000
	tl.switchIn(6000)
	tl.switchOut(7000, true) // preempted: 7000..7500
	tl.switchIn(7500)
	tl.switchOut(8000, false) // sleep 3: 8000..9000, no wake-up
	tl.switchIn(9000)
	tl.stop(10000)
	wakes := []wake{
		{tNS: 5500, wakee: tid, class: wakerInterrupt},               // ends sleep 2
		{tNS: 2600, wakee: tid, class: "reader", pid: 200, tid: 201}, // ends sleep 1
		{tNS: 3500, wakee: tid, class: "reader", pid: 200, tid: 201}, // on-CPU: superseded
		{tNS: 100, wakee: tid, class: wakerOther},                    // before the window
	}
	s := newWakeSplit()
	s.join(tl, wakes)
	if s.waitingNS != 600+1500+1000 || s.latencyNS != 400+500 {
		t.Errorf("waiting %d, latency %d; want 3100, 900", s.waitingNS, s.latencyNS)
	}
	if got := s.waitingNS + s.latencyNS + tl.preemptedNS; got != tl.offNS {
		t.Errorf("waiting + latency + preempted = %d, off-CPU %d", got, tl.offNS)
	}
	if !reflect.DeepEqual(s.latencies, []int64{400, 500}) {
		t.Errorf("latencies %v, want [400 500]", s.latencies)
	}
	f := s.figures(0)
	want := []result.WakerShare{
		{Waker: wakerInterrupt, Sleeps: 1, SleepNanos: 2000, WakeupNanos: 500},
		{Waker: wakerNotRecorded, Sleeps: 1, SleepNanos: 1000},
		{Waker: "reader", Sleeps: 1, SleepNanos: 1000, WakeupNanos: 400},
	}
	if !reflect.DeepEqual(f.Wakers, want) {
		t.Errorf("wakers\ngot  %+v\nwant %+v", f.Wakers, want)
	}
	if f.Latency.MedianNanos != 400 || f.Latency.P99Nanos != 500 {
		t.Errorf("latency %+v, want median 400, p99 500", f.Latency)
	}
	var wakeNS int64
	for _, st := range tl.off.order {
		wakeNS += st.wakeNS
	}
	if wakeNS != 900 {
		t.Errorf("wake-up latency charged to off-CPU stacks: %d, want 900", wakeNS)
	}
}

func TestLatencyPercentiles(t *testing.T) {
	var ns []int64
	for i := 100; i >= 1; i-- {
		ns = append(ns, int64(i))
	}
	l := latency(ns)
	if l.Count != 100 || l.MedianNanos != 50 || l.P90Nanos != 90 || l.P99Nanos != 99 || l.MinNanos != 1 || l.MaxNanos != 100 {
		t.Errorf("got %+v", l)
	}
	if (latency(nil) != Latency{}) {
		t.Error("empty: want zero")
	}
}
