package profile

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

// Synthetic ring records of the wall view's context-switch event, encoded
// as the kernel writes them after the perf_event_header (sample format
// IP|TID|TIME|PERIOD|CALLCHAIN, sample_id_all with TID|TIME).

type synth struct {
	typ  uint32
	misc uint16
	body []byte
}

const pid, tid = 100, 101

func le64(b []byte, vs ...uint64) []byte {
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

func sampleID(tNS uint64) []byte {
	b := binary.LittleEndian.AppendUint32(nil, pid)
	b = binary.LittleEndian.AppendUint32(b, tid)
	return le64(b, tNS)
}

// switchSample is the context-switches sample taken at switch-out.
func switchSample(tNS uint64, chain ...uint64) synth {
	b := le64(nil, chain[1])
	b = append(b, sampleID(tNS)...)
	b = le64(b, 1, uint64(len(chain)))
	return synth{recordSample, 0, le64(b, chain...)}
}

func switchOut(tNS uint64) synth { return synth{recordSwitch, miscSwitchOut, sampleID(tNS)} }
func preemptOut(tNS uint64) synth {
	return synth{recordSwitch, miscSwitchOut | miscSwitchOutPreempt, sampleID(tNS)}
}
func switchIn(tNS uint64) synth { return synth{recordSwitch, 0, sampleID(tNS)} }

// exitRecord is PERF_RECORD_EXIT: u32 pid, ppid, tid, ptid; u64 time;
// sample_id.
func exitRecord(tNS uint64) synth {
	var b []byte
	for _, v := range []uint32{pid, 1, tid, 1} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	b = le64(b, tNS)
	return synth{recordExit, 0, append(b, sampleID(tNS)...)}
}

// lostRecord is PERF_RECORD_LOST: u64 id, lost; sample_id.
func lostRecord(n uint64) synth {
	return synth{recordLost, 0, append(le64(nil, 7, n), sampleID(0)...)}
}

// Kernel stacks at switch-out, addresses in testdata/kallsyms.
var (
	chainWrite = []uint64{contextKernel, 0xffffffff816e4250, 0xffffffff816d5d00} // anon_pipe_write < vfs_write
	chainRead  = []uint64{contextKernel, 0xffffffff816d61b0}                     // ksys_read
)

// feed decodes recs into a timeline started at startNS and closes it at
// stopNS (a no-op once the thread exited).
func feed(t *testing.T, startNS, stopNS int64, recs []synth) (*timeline, uint64) {
	t.Helper()
	tl := newTimeline(pid, tid, startNS)
	var lost uint64
	for i, s := range recs {
		var rec record
		if err := decodeBody(s.typ, s.misc, s.body, &rec); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		lost += tl.handle(&rec)
	}
	tl.stop(stopNS)
	return tl, lost
}

// offByChain maps a stack's first address (0 when empty) to its off-CPU
// time.
func offByChain(tl *timeline) map[uint64]int64 {
	m := map[uint64]int64{}
	for _, s := range tl.off.order {
		var k uint64
		if len(s.chain) > 1 {
			k = s.chain[1]
		}
		m[k] += s.offNS
	}
	return m
}

func TestTimeline(t *testing.T) {
	w, r := chainWrite[1], chainRead[1]
	tests := []struct {
		name                     string
		start, stop              int64
		recs                     []synth
		wall, on, off, preempted int64
		switches, wakeups        uint64
		offBy                    map[uint64]int64
		mismatches               int
		lost                     uint64
	}{{
		name: "gated thread: window from the gate opening to exit", start: 1000, stop: 9000,
		recs: []synth{switchIn(1500), switchSample(2000, chainWrite...), switchOut(2000), switchIn(5000),
			switchSample(6000, chainRead...), preemptOut(6000), switchIn(6500), exitRecord(7000)},
		wall: 5500, on: 2000, off: 3500, preempted: 500, switches: 2, wakeups: 1,
		offBy: map[uint64]int64{w: 3000, r: 500},
	}, {
		name: "running at start, still running at stop", start: 1000, stop: 2000,
		recs: []synth{switchSample(1200, chainWrite...), switchOut(1200), switchIn(1700)},
		wall: 1000, on: 500, off: 500, switches: 1, wakeups: 1,
		offBy: map[uint64]int64{w: 500},
	}, {
		name: "asleep at stop", start: 1000, stop: 2000,
		recs: []synth{switchIn(1100), switchSample(1300, chainRead...), switchOut(1300)},
		wall: 900, on: 200, off: 700, switches: 1,
		offBy: map[uint64]int64{r: 700},
	}, {
		name: "lost switch-in: the gap counts as on-CPU", start: 1000, stop: 9000,
		recs: []synth{switchIn(1100), switchSample(1200, chainWrite...), switchOut(1200), lostRecord(2),
			switchSample(1500, chainRead...), switchOut(1500), switchIn(1600), exitRecord(1700)},
		wall: 600, on: 500, off: 100, switches: 2, wakeups: 1,
		offBy: map[uint64]int64{r: 100}, mismatches: 1, lost: 2,
	}, {
		name: "switch-out without its sample: no stack", start: 1000, stop: 9000,
		recs: []synth{switchIn(1100), switchOut(1200), switchIn(1300), exitRecord(1400)},
		wall: 300, on: 200, off: 100, switches: 1, wakeups: 1,
		offBy: map[uint64]int64{0: 100},
	}, {
		name: "never ran in the window", start: 1000, stop: 2000,
		offBy: map[uint64]int64{},
	}, {
		name: "records after exit are ignored", start: 1000, stop: 9000,
		recs: []synth{switchIn(1100), exitRecord(1400), switchSample(1500, chainWrite...), switchOut(1500), switchIn(1600)},
		wall: 300, on: 300,
		offBy: map[uint64]int64{},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl, lost := feed(t, tc.start, tc.stop, tc.recs)
			got := []int64{tl.wallNS(), tl.onNS, tl.offNS, tl.preemptedNS}
			want := []int64{tc.wall, tc.on, tc.off, tc.preempted}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("wall, on, off, preempted: got %v, want %v", got, want)
			}
			if tl.onNS+tl.offNS != tl.wallNS() {
				t.Errorf("on %d + off %d != wall %d", tl.onNS, tl.offNS, tl.wallNS())
			}
			if tl.switches != tc.switches || tl.wakeups != tc.wakeups {
				t.Errorf("switches, wakeups: got %d, %d, want %d, %d", tl.switches, tl.wakeups, tc.switches, tc.wakeups)
			}
			if got := offByChain(tl); !reflect.DeepEqual(got, tc.offBy) {
				t.Errorf("off-CPU by stack: got %v, want %v", got, tc.offBy)
			}
			if tl.mismatches != tc.mismatches || lost != tc.lost {
				t.Errorf("mismatches, lost: got %d, %d, want %d, %d", tl.mismatches, lost, tc.mismatches, tc.lost)
			}
		})
	}
}

func TestTransferThreads(t *testing.T) {
	mk := func(pid, tid uint32, onNS int64) *timeline {
		tl := newTimeline(pid, tid, 0)
		tl.onNS = onNS
		return tl
	}
	tls := []*timeline{mk(1, 1, 50), mk(1, 2, 70), mk(1, 3, 10), mk(2, 2, 5), mk(2, 9, 1)}
	var got [][2]uint32
	for _, tl := range transferThreads(tls) {
		got = append(got, [2]uint32{tl.pid, tl.tid})
	}
	if want := [][2]uint32{{1, 2}, {2, 2}}; !reflect.DeepEqual(got, want) {
		t.Errorf("transfer threads: got %v, want %v", got, want)
	}
}

// TestWallProfile builds a role's wall profile from synthetic records and
// cpu samples: the transfer thread's cpu samples (carrying its on-CPU
// time) and off-CPU stacks are in it, another thread's are not, off-CPU
// time without a stack sits under its own frame, and the values add up to
// the role's figures.
func TestWallProfile(t *testing.T) {
	sym, _ := fixtureSymbolizer(t)
	p := &Profiler{cfg: Config{FreqHz: 999, Mode: "write", View: "wall"}, sym: sym}
	r := &roleState{name: "writer", agg: newAggregator(), wall: &wallRole{}}
	cpuChain := rawChain(contextKernel, 0xffffffff81bafa90, 0xffffffff816e4250) // copy_page_from_iter < anon_pipe_write
	r.agg.add(pid, tid, cpuChain, 2, 2000, 0)
	r.agg.add(pid, tid+1, cpuChain, 1, 1000, 0) // a runtime thread
	main, _ := feed(t, 1000, 9000, []synth{switchIn(1000), switchSample(3000, chainWrite...), switchOut(3000),
		switchIn(7000), switchOut(7500), switchIn(8000), exitRecord(9000)})
	idle := newTimeline(pid, tid+1, 1000)
	idle.switchIn(1000)
	idle.switchOut(1100, false)
	idle.stop(9000)
	r.wall.timelines = []*timeline{main, idle}

	role := &Role{}
	p.addWall(r, role, buildInput{role: "writer", mode: "write", stacks: r.agg.order, periodNS: 1001001})
	if got := []int64{role.WallNanos, role.OnCPUNanos, role.OffCPUNanos}; !reflect.DeepEqual(got, []int64{8000, 3500, 4500}) {
		t.Errorf("wall, on, off: got %v, want [8000 3500 4500]", got)
	}
	if role.Switches != 2 || role.Wakeups != 2 {
		t.Errorf("switches, wakeups: got %d, %d, want 2, 2", role.Switches, role.Wakeups)
	}
	q := parseBack(t, role.Wall)
	var types []string
	for _, st := range q.SampleType {
		types = append(types, st.Type+"/"+st.Unit)
	}
	if want := []string{"samples/count", "cpu/nanoseconds", "offcpu/nanoseconds", "wakeup/nanoseconds"}; !reflect.DeepEqual(types, want) {
		t.Errorf("sample types: got %v, want %v", types, want)
	}
	type row struct {
		frames string
		values [3]int64
		tid    string
	}
	var got []row
	for _, s := range q.Sample {
		got = append(got, row{strings.Join(frameNames(s), "<"), [3]int64(s.Value), s.Label["tid"][0]})
	}
	want := []row{
		{"copy_page_from_iter<anon_pipe_write", [3]int64{2, 3500, 0}, "101"},
		{"anon_pipe_write<vfs_write", [3]int64{0, 0, 4000}, "101"},
		{offNoStackFrame, [3]int64{0, 0, 500}, "101"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("samples:\ngot  %v\nwant %v", got, want)
	}
}

// FuzzTimeline feeds a timeline any sequence of switch records, times
// going back and forth included, and checks what holds whatever the ring
// held: on-CPU plus off-CPU is the window, the off-CPU stacks sum to the
// off-CPU time, nothing is negative and wakeups never outnumber switches.
func FuzzTimeline(f *testing.F) {
	f.Add([]byte{3, 10, 0, 20, 1, 30, 3, 50, 4, 60})
	f.Add([]byte{1, 5, 1, 6, 3, 7, 0, 2, 2, 1, 5, 9})
	f.Fuzz(func(t *testing.T, ops []byte) {
		tl := newTimeline(pid, tid, 1000)
		now := int64(1000)
		for i := 0; i+1 < len(ops); i += 2 {
			tNS := now + int64(int8(ops[i+1]))*10 // may run backwards
			now = max(now, tNS)
			switch ops[i] % 6 {
			case 0:
				tl.sample(rawChain(chainWrite...))
			case 1:
				tl.switchOut(tNS, false)
			case 2:
				tl.switchOut(tNS, true)
			case 3:
				tl.switchIn(tNS)
			case 4:
				tl.exit(tNS)
			case 5:
				tl.handle(&record{typ: recordLost, lost: 1})
			}
		}
		tl.stop(now + 100)
		var stacks int64
		for _, s := range tl.off.order {
			stacks += s.offNS
		}
		if tl.onNS < 0 || tl.offNS < 0 || tl.preemptedNS < 0 || tl.preemptedNS > tl.offNS {
			t.Fatalf("negative or inconsistent: on %d off %d preempted %d", tl.onNS, tl.offNS, tl.preemptedNS)
		}
		if tl.onNS+tl.offNS != tl.wallNS() || stacks != tl.offNS {
			t.Fatalf("on %d + off %d != wall %d, or stacks %d != off", tl.onNS, tl.offNS, tl.wallNS(), stacks)
		}
		if tl.wakeups > tl.switches {
			t.Fatalf("%d wakeups > %d switches", tl.wakeups, tl.switches)
		}
	})
}

func TestWallFiguresDisagree(t *testing.T) {
	tests := []struct {
		name              string
		onNS, taskClockNS int64
		switches          uint64
		want              bool
	}{
		{"equal", 100e6, 100e6, 1000, false},
		{"housekeeping of 8 µs a switch", 100e6, 108e6, 1000, false},
		{"5% plus 10 µs a switch", 100e6, 115e6, 1000, false},
		{"switch-outs lost: on-CPU too high", 150e6, 100e6, 1000, true},
		{"switch-ins lost: on-CPU too low", 60e6, 100e6, 1000, true},
		{"task-clock not read", 60e6, 0, 1000, false},
	}
	for _, tc := range tests {
		f := wallFigures{onNS: tc.onNS, taskClockNS: tc.taskClockNS, switches: tc.switches}
		if got := f.disagrees(); got != tc.want {
			t.Errorf("%s: disagrees() = %v, want %v", tc.name, got, tc.want)
		}
	}
	p := &Profiler{}
	r := &roleState{name: "writer", wall: &wallRole{}}
	tl := newTimeline(pid, tid, 0)
	tl.onNS, tl.taskClockNS, tl.switches = 60e6, 100e6, 1000
	r.wall.timelines = []*timeline{tl}
	p.roles = [2]*roleState{r, {name: "reader"}}
	want := "writer: on-CPU time from context-switch timestamps (60000000 ns) and the task-clock counter (100000000 ns) disagree by more than 5%; switch records may be missing"
	if got := p.wallWarnings(); !reflect.DeepEqual(got, []string{want}) {
		t.Errorf("warnings: got %q, want %q", got, want)
	}
	// The counters say which it is: with every counted switch-out
	// recorded, the surplus of task-clock is perf's own work at the
	// switches (an emulated arm64 guest: 230-240µs a switch).
	for _, tc := range []struct {
		name    string
		counted int64
		want    string
	}{
		{"every switch-out recorded", 1001, "writer: task-clock (100000000 ns) exceeds the on-CPU time from context-switch timestamps (60000000 ns) by 40.0µs a switch: perf's own work at each of the 999 switches, which the records' timestamps leave out (every switch-out the context-switches counter counted was recorded)"},
		{"switch-outs not recorded", 1200, "writer: on-CPU time from context-switch timestamps (60000000 ns) and the task-clock counter (100000000 ns) disagree by more than 5%; switch records may be missing (999 switch-outs recorded, 1200 counted)"},
	} {
		tl.countedSwitches = tc.counted
		tl.switches = 999 // the figure a switch divides by switches+1: 40ms over 1000
		if got := p.wallWarnings(); !reflect.DeepEqual(got, []string{tc.want}) {
			t.Errorf("%s: warnings: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestOnCPUStacks(t *testing.T) {
	tl := newTimeline(pid, tid, 0)
	tl.onNS = 10
	a := &stack{pid: pid, tid: tid, samples: 1, cpuNS: 1000}
	b := &stack{pid: pid, tid: tid, samples: 2, cpuNS: 2000}
	other := &stack{pid: pid, tid: tid + 1, samples: 5, cpuNS: 5000}
	var got [][2]int64
	for _, s := range onCPUStacks(tl, []*stack{a, other, b}) {
		got = append(got, [2]int64{s.samples, s.cpuNS})
	}
	if want := [][2]int64{{1, 3}, {2, 7}}; !reflect.DeepEqual(got, want) {
		t.Errorf("rescaled (samples, cpu ns): got %v, want %v", got, want)
	}
	if a.cpuNS != 1000 || b.cpuNS != 2000 {
		t.Errorf("onCPUStacks changed the cpu view's stacks: %d, %d", a.cpuNS, b.cpuNS)
	}

	tl.onNS = 5000 // ran, but no sample caught it
	got = nil
	ss := onCPUStacks(tl, []*stack{other})
	for _, s := range ss {
		got = append(got, [2]int64{s.samples, s.cpuNS})
	}
	if want := [][2]int64{{0, 5000}}; !reflect.DeepEqual(got, want) || len(ss[0].chain) != 0 {
		t.Errorf("unsampled thread: got %v, want %v without frames", got, want)
	}
	sym, _ := fixtureSymbolizer(t)
	p := buildProfile(sym, buildInput{role: "writer", mode: "busy", stacks: ss, wall: true})
	markNoStack(p)
	q := parseBack(t, p)
	if names := frameNames(q.Sample[0]); !reflect.DeepEqual(names, []string{onNoSampleFrame}) {
		t.Errorf("unsampled on-CPU frames: got %v, want [%s]", names, onNoSampleFrame)
	}
}
