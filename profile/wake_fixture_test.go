package profile

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"

	perf "github.com/elastic/go-perf"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/result"
)

// The join on records of a real run. wakeFixturePath holds what the wall
// view's join works from, as the rings delivered it during a real
// vmsplice run on Linux 6.18 (pipelab's writer and reader, 32MiB, pinned
// to CPUs 0 and 1): the switch rings (one per followed thread and CPU)
// with their role, pid, tid and window start, every raw record of those
// rings and of the sched_waking rings of every CPU, each thread's window
// end, and the offsets of the two tracepoint fields the decoder reads.
// TestWakeFixture replays them through the same code as a run (switch
// records into the rings' logs and timelines, wake records into wakes,
// the join, the figures) without any privilege.
//
// To capture it again (root, tracefs mounted):
//
//	go test ./profile -run '^TestWakeFixture$' -update
//
// The capture checks that the replay of the file it wrote gives the run's
// own figures; the test then fails with the new figures, to be copied
// into wantWakeFixture.
const wakeFixturePath = "testdata/wake-vmsplice.bin.gz"

// The fixture's format, gzip-compressed: the line wakeFixtureMagic, one
// line of JSON (fixtureHeader), then records to the end, each
//
//	u8 ring ('s' a switch ring, 'w' a wake ring); u32 id (the switch
//	ring's index in fixtureHeader.Rings, or the wake ring's CPU);
//	u32 type; u16 misc; u32 size; u8 data[size]
//
// little-endian, where type, misc and data are the struct
// perf_event_header type and misc and the record body after it
// (<linux/perf_event.h>), in the order each ring delivered them.
const wakeFixtureMagic = "pipelab wake fixture 2\n"

const (
	ringSwitch = 's'
	ringWake   = 'w'
)

// fixtureHeader is the JSON line of a fixture.
type fixtureHeader struct {
	Kernel string `json:"kernel"`
	Mode   string `json:"mode"`
	Bytes  int64  `json:"bytes"`
	// FlagsOffset and PIDOffset are where common_flags and pid sit in
	// sched_waking's raw payload, from its format file.
	FlagsOffset int `json:"flags_offset"`
	PIDOffset   int `json:"pid_offset"`
	// Rings are the switch rings in the wall view's order.
	Rings []fixtureRing `json:"rings"`
	// EndNS is each thread's window end (its exit or the window's
	// close), by tid.
	EndNS map[uint32]int64 `json:"end_ns"`
}

// fixtureRing is one switch ring: the attached thread it follows, the
// window start (the switch events enabled), CLOCK_MONOTONIC, and whether
// its reader fed the timelines at once (the thread's only ring: it was
// pinned) or logged the records until Stop.
type fixtureRing struct {
	Role    string `json:"role"`
	PID     uint32 `json:"pid"`
	TID     uint32 `json:"tid"`
	StartNS int64  `json:"start_ns"`
	Live    bool   `json:"live"`
}

// fixtureRecord is one raw ring record of a fixture.
type fixtureRecord struct {
	ring byte
	id   uint32
	raw  perf.RawRecord
}

type wakeFixture struct {
	header  fixtureHeader
	records []fixtureRecord
}

// fixtureWriter is the fixtureTap of a capture.
type fixtureWriter struct {
	mu    sync.Mutex
	fx    wakeFixture
	rings map[*switchEvent]uint32
}

func (w *fixtureWriter) ring(role string, se *switchEvent, startNS int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rings[se] = uint32(len(w.fx.header.Rings))
	w.fx.header.Rings = append(w.fx.header.Rings, fixtureRing{Role: role, PID: se.tl.pid, TID: se.tl.tid, StartNS: startNS, Live: se.live})
}

func (w *fixtureWriter) windowEnd(tl *timeline) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fx.header.EndNS[tl.tid] = tl.endNS
}

func (w *fixtureWriter) switchRecord(se *switchEvent, raw *perf.RawRecord) {
	w.mu.Lock()
	id, ok := w.rings[se]
	w.mu.Unlock()
	if ok {
		w.add(ringSwitch, id, raw)
	}
}

func (w *fixtureWriter) wakeRecord(cpu int, raw *perf.RawRecord) {
	w.add(ringWake, uint32(cpu), raw)
}

func (w *fixtureWriter) add(ring byte, id uint32, raw *perf.RawRecord) {
	c := perf.RawRecord{Header: raw.Header, Data: append([]byte(nil), raw.Data...)}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fx.records = append(w.fx.records, fixtureRecord{ring: ring, id: id, raw: c})
}

// encode writes fx in the fixture format.
func (fx *wakeFixture) encode(w io.Writer) error {
	zw := gzip.NewWriter(w)
	h, err := json.Marshal(fx.header)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(zw)
	bw.WriteString(wakeFixtureMagic)
	bw.Write(append(h, '\n'))
	le := binary.LittleEndian
	for _, r := range fx.records {
		b := []byte{r.ring}
		b = le.AppendUint32(b, r.id)
		b = le.AppendUint32(b, uint32(r.raw.Header.Type))
		b = le.AppendUint16(b, r.raw.Header.Misc)
		b = le.AppendUint32(b, uint32(len(r.raw.Data)))
		bw.Write(append(b, r.raw.Data...))
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// decodeWakeFixture reads a fixture.
func decodeWakeFixture(r io.Reader) (*wakeFixture, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(zr)
	magic, err := br.ReadString('\n')
	if err != nil || magic != wakeFixtureMagic {
		return nil, fmt.Errorf("not a wake fixture: starts with %q", magic)
	}
	line, err := br.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	fx := &wakeFixture{}
	if err := json.Unmarshal(line, &fx.header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	le := binary.LittleEndian
	var head [15]byte
	for {
		if _, err := io.ReadFull(br, head[:]); err == io.EOF {
			return fx, nil
		} else if err != nil {
			return nil, fmt.Errorf("record %d: %w", len(fx.records), err)
		}
		r := fixtureRecord{ring: head[0], id: le.Uint32(head[1:])}
		r.raw.Header.Type = perf.RecordType(le.Uint32(head[5:]))
		r.raw.Header.Misc = le.Uint16(head[9:])
		r.raw.Data = make([]byte, le.Uint32(head[11:]))
		if _, err := io.ReadFull(br, r.raw.Data); err != nil {
			return nil, fmt.Errorf("record %d: %w", len(fx.records), err)
		}
		fx.records = append(fx.records, r)
	}
}

// fixtureFigures is what the join made of a fixture for one role: the
// wall figures of its transfer thread and the wake-up figures.
type fixtureFigures struct {
	TID                                    uint32
	WallNanos, OffCPUNanos, PreemptedNanos int64
	Wake                                   WakeFigures
}

// replay runs fx's records through the wall view's and the wake-up
// recording's code, as a run would, and returns the figures per role.
// The waker's role comes from the rings' pids: the fixture's children
// create no processes.
func (fx *wakeFixture) replay() (map[string]fixtureFigures, error) {
	p := &Profiler{pidRole: map[uint32]*roleState{}}
	rec := &wakeRecorder{
		layout: wakeLayout{flags: field{offset: fx.header.FlagsOffset, size: 1}, pid: field{offset: fx.header.PIDOffset, size: 4, signed: true}},
		wakee:  map[uint32]bool{}, byTid: map[uint32][]wake{},
	}
	roles := map[string]*roleState{}
	var names []string
	attached := map[uint32]*timeline{}
	var rings []*switchEvent
	for _, rg := range fx.header.Rings {
		r := roles[rg.Role]
		if r == nil {
			r = &roleState{name: rg.Role, wall: &wallRole{startNS: rg.StartNS}}
			roles[rg.Role] = r
			names = append(names, rg.Role)
		}
		p.pidRole[rg.PID] = r
		rec.wakee[rg.TID] = true
		tl := attached[rg.TID]
		if tl == nil {
			tl = newTimeline(rg.PID, rg.TID, rg.StartNS)
			attached[rg.TID] = tl
		}
		se := &switchEvent{tl: tl, chains: map[string]string{}, live: rg.Live, born: map[uint32]*timeline{}, startNS: rg.StartNS}
		r.wall.events = append(r.wall.events, se)
		rings = append(rings, se)
	}
	wakeEvents := map[uint32]*wakeEvent{}
	for i := range fx.records {
		r := &fx.records[i]
		switch {
		case r.ring == ringSwitch && int(r.id) < len(rings):
			rings[r.id].handle(&r.raw)
		case r.ring == ringWake:
			we := wakeEvents[r.id]
			if we == nil {
				we = &wakeEvent{cpu: int(r.id)}
				wakeEvents[r.id] = we
			}
			p.handleWake(rec, we, &r.raw)
		default:
			return nil, fmt.Errorf("record %d: ring %q %d", i, r.ring, r.id)
		}
	}
	var lost uint64
	for _, we := range wakeEvents {
		lost += we.lost
	}
	p.wake.rec = rec
	out := map[string]fixtureFigures{}
	for _, name := range names {
		var tls []*timeline
		for _, tl := range roles[name].wall.cycleTimelines() {
			end, ok := fx.header.EndNS[tl.tid]
			if !ok {
				return nil, fmt.Errorf("%s thread %d: no window end", name, tl.tid)
			}
			tl.stop(end)
			p.joinWakes(tl)
			tls = append(tls, tl)
		}
		tt := transferThreads(tls)
		if len(tt) != 1 {
			return nil, fmt.Errorf("%s: %d transfer threads, want 1", name, len(tt))
		}
		f := sumFigures(tt)
		s := mergeWakes(tt)
		if s == nil {
			return nil, fmt.Errorf("%s: no wake-ups joined", name)
		}
		out[name] = fixtureFigures{TID: tt[0].tid, WallNanos: f.wallNS, OffCPUNanos: f.offNS, PreemptedNanos: f.preemptedNS, Wake: *s.figures(lost)}
	}
	return out, nil
}

// wantWakeFixture is what the join makes of wakeFixturePath. In the
// vmsplice run the writer's sleeps are ended by the reader and the
// reader's by the writer, nearly all of them.
var wantWakeFixture = map[string]fixtureFigures{
	"writer": {TID: 15207, WallNanos: 25266984, OffCPUNanos: 17479685, PreemptedNanos: 47589, Wake: WakeFigures{
		WaitingNanos: 6847425, WakeupNanos: 10584671,
		Latency: Latency{Count: 261, MedianNanos: 30960, P90Nanos: 66293, P99Nanos: 176936, MinNanos: 7716, MaxNanos: 739059, MeanNanos: 40554},
		Wakers:  []result.WakerShare{{Waker: "reader", Sleeps: 261, SleepNanos: 17432096, WakeupNanos: 10584671}},
	}},
	"reader": {TID: 15208, WallNanos: 25930411, OffCPUNanos: 15467385, PreemptedNanos: 624255, Wake: WakeFigures{
		WaitingNanos: 5137107, WakeupNanos: 9706023,
		Latency: Latency{Count: 250, MedianNanos: 31120, P90Nanos: 69480, P99Nanos: 127595, MinNanos: 6763, MaxNanos: 174915, MeanNanos: 38824},
		Wakers:  []result.WakerShare{{Waker: "writer", Sleeps: 250, SleepNanos: 14843130, WakeupNanos: 9706023}},
	}},
}

func TestWakeFixture(t *testing.T) {
	if *update {
		captureWakeFixture(t)
	}
	_, got := replayWakeFixture(t)
	other := map[string]string{"writer": "reader", "reader": "writer"}
	for _, role := range []string{"writer", "reader"} {
		g, ok := got[role]
		if !ok {
			t.Fatalf("no %s in the fixture", role)
		}
		w := g.Wake
		if sum := w.WaitingNanos + w.WakeupNanos + g.PreemptedNanos; sum != g.OffCPUNanos {
			t.Errorf("%s: waiting %d + wake-up %d + preempted %d = %d ns, want off-CPU %d ns", role, w.WaitingNanos, w.WakeupNanos, g.PreemptedNanos, sum, g.OffCPUNanos)
		}
		l := w.Latency
		if l.Count == 0 || l.MinNanos <= 0 || l.MedianNanos < l.MinNanos || l.P90Nanos < l.MedianNanos || l.P99Nanos < l.P90Nanos || l.MaxNanos < l.P99Nanos {
			t.Errorf("%s: latency %+v, want positive and min <= median <= p90 <= p99 <= max", role, l)
		}
		var sleeps uint64
		var sleepNS, wakeNS int64
		for _, s := range w.Wakers {
			sleeps += s.Sleeps
			sleepNS += s.SleepNanos
			wakeNS += s.WakeupNanos
		}
		if sleepNS != w.WaitingNanos+w.WakeupNanos || wakeNS != w.WakeupNanos {
			t.Errorf("%s: wakers' shares sum to %d ns asleep, %d ns of wake-up; want %d and %d", role, sleepNS, wakeNS, w.WaitingNanos+w.WakeupNanos, w.WakeupNanos)
		}
		if len(w.Wakers) == 0 || w.Wakers[0].Waker != other[role] || w.Wakers[0].SleepNanos*10 < sleepNS*9 {
			t.Errorf("%s: wakers %+v; want the %s first, with 90%% of the sleep or more", role, w.Wakers, other[role])
		}
		t.Logf("%s: %d sleeps, off-CPU %d ns = waiting %d + wake-up %d + preempted %d; latency %+v", role, sleeps, g.OffCPUNanos, w.WaitingNanos, w.WakeupNanos, g.PreemptedNanos, l)
	}
	if !reflect.DeepEqual(got, wantWakeFixture) {
		t.Errorf("figures of %s (-want +got):\n-%+v\n+%+v", wakeFixturePath, wantWakeFixture, got)
	}
}

// captureWakeFixture profiles a real vmsplice run in the wall view with
// the fixtureTap set, writes wakeFixturePath (temp file and rename), and
// checks that its replay gives the run's own figures.
func captureWakeFixture(t *testing.T) {
	if err := ProbeWakeups(); err != nil {
		t.Fatalf("capture %s: %v", wakeFixturePath, err)
	}
	dir, err := TracefsDir()
	if err != nil {
		t.Fatal(err)
	}
	_, tf, err := readTracepoint(dir, "sched", wakeTracepoint)
	if err != nil {
		t.Fatal(err)
	}
	l, err := layoutFromFormat(tf)
	if err != nil {
		t.Fatal(err)
	}
	o := bench.DefaultOptions()
	o.Mode, o.Bytes, o.Repeat = "vmsplice", 32<<20, 1
	p, err := New(Config{FreqHz: 999, Mode: o.Mode, View: "wall"})
	if err != nil {
		t.Fatal(err)
	}
	w := &fixtureWriter{rings: map[*switchEvent]uint32{}}
	w.fx.header = fixtureHeader{Kernel: KernelRelease(), Mode: o.Mode, Bytes: o.Bytes, FlagsOffset: l.flags.offset, PIDOffset: l.pid.offset, EndNS: map[uint32]int64{}}
	fixtureTap = w
	_, err = bench.Run(context.Background(), o, p, nil)
	fixtureTap = nil
	if err != nil {
		t.Fatal(err)
	}
	res := p.Result()
	sort.SliceStable(w.fx.records, func(i, j int) bool { return w.fx.records[i].ring < w.fx.records[j].ring })
	tmp, err := os.CreateTemp(filepath.Dir(wakeFixturePath), ".wake-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(tmp.Name())
	if err := errors.Join(w.fx.encode(tmp), tmp.Close()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), wakeFixturePath); err != nil {
		t.Fatal(err)
	}
	fx, got := replayWakeFixture(t)
	for _, r := range res.Roles {
		g := got[r.Name]
		live := fixtureFigures{TID: g.TID, WallNanos: r.WallNanos, OffCPUNanos: r.OffCPUNanos, PreemptedNanos: r.PreemptedNanos}
		if r.Wake != nil {
			live.Wake = *r.Wake
		}
		if !reflect.DeepEqual(g, live) {
			t.Errorf("%s: the replay of %s differs from the run (-run +replay):\n-%+v\n+%+v", r.Name, wakeFixturePath, live, g)
		}
	}
	t.Logf("wrote %s: %d switch rings, %d records", wakeFixturePath, len(fx.header.Rings), len(fx.records))
}

// replayWakeFixture decodes the fixture file and replays it through the
// wall view's and the join's code.
func replayWakeFixture(t *testing.T) (*wakeFixture, map[string]fixtureFigures) {
	t.Helper()
	f, err := os.Open(wakeFixturePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fx, err := decodeWakeFixture(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fx.replay()
	if err != nil {
		t.Fatal(err)
	}
	return fx, got
}
