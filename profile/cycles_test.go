package profile

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	perf "github.com/elastic/go-perf"
	pprof "github.com/google/pprof/profile"
)

// The cycles sampling path cannot run on this machine (no PMU), so these
// tests give it records in the exact layout the kernel writes for the
// attributes samplingAttr(EventCycles, ...) asks for: PERF_SAMPLE_IP |
// TID | TIME | PERIOD | CALLCHAIN (with CPU for a per-thread sampler),
// sample_id_all on the side-band records, and a frequency, so each
// sample's period is the cycle count the kernel chose for it (1 for the
// first) and PERF_RECORD_THROTTLE records come when its interrupts take
// too long. TestProfileCycles runs the real path where a PMU samples.

// cyclesSample is a PERF_RECORD_SAMPLE of a cycles sampler: u64 ip; u32
// pid, tid; u64 time; [u32 cpu, res;] u64 period; u64 nr; u64 ips[nr].
func cyclesSample(f recordFormat, pid, tid, cpu uint32, time, cycles uint64, chain ...uint64) perf.RawRecord {
	le := binary.LittleEndian
	b := le.AppendUint64(nil, chain[1]) // ip: the first real entry of the chain
	b = le.AppendUint32(b, pid)
	b = le.AppendUint32(b, tid)
	b = le.AppendUint64(b, time)
	if f.cpu {
		b = le.AppendUint32(b, cpu)
		b = le.AppendUint32(b, 0)
	}
	b = le.AppendUint64(b, cycles)
	b = le.AppendUint64(b, uint64(len(chain)))
	for _, c := range chain {
		b = le.AppendUint64(b, c)
	}
	return perf.RawRecord{Header: perf.RecordHeader{Type: recordSample, Size: uint16(8 + len(b))}, Data: b}
}

// throttleRecord is PERF_RECORD_THROTTLE (or UNTHROTTLE): u64 time, id,
// stream_id; then the sample_id trailer: u32 pid, tid; u64 time; [u32
// cpu, res].
func throttleRecord(f recordFormat, typ uint32, pid, tid, cpu uint32, time uint64) perf.RawRecord {
	le := binary.LittleEndian
	b := le.AppendUint64(nil, time)
	b = le.AppendUint64(b, 7) // id
	b = le.AppendUint64(b, 7) // stream_id
	b = le.AppendUint32(b, pid)
	b = le.AppendUint32(b, tid)
	b = le.AppendUint64(b, time)
	if f.cpu {
		b = le.AppendUint32(b, cpu)
		b = le.AppendUint32(b, 0)
	}
	return perf.RawRecord{Header: perf.RecordHeader{Type: perf.RecordType(typ), Size: uint16(8 + len(b))}, Data: b}
}

// TestCyclesRecords feeds a CPU-wide and a per-thread cycles sampler's
// records through the profiler: samples land in their roles weighted by
// the nominal period (1/FreqHz of CPU time, whatever the cycle count),
// the idle task's samples (arm's PMU cannot leave idle out) and other
// tasks' go to no role, throttling is counted and said, and the profile
// holds the kernel frames.
func TestCyclesRecords(t *testing.T) {
	sym, _ := fixtureSymbolizer(t)
	writer := &roleState{name: "writer", agg: newAggregator(), counters: newCounters(), pids: []int{100}}
	reader := &roleState{name: "reader", agg: newAggregator(), counters: newCounters(), pids: []int{200}}
	p := &Profiler{cfg: Config{FreqHz: 999, Mode: "write", View: "cpu", Event: EventCycles}, sym: sym,
		warned: map[string]bool{}, pidRole: map[uint32]*roleState{100: writer, 200: reader}, tasks: newTasks()}
	p.roles = [2]*roleState{writer, reader}

	// copy_page_from_iter < anon_pipe_write in the fixture symbol table.
	write := []uint64{contextKernel, 0xffffffff81bafa90, 0xffffffff816e4250}
	wide := &sampler{cpu: 0, tid: -1, event: EventCycles}
	thread := &sampler{cpu: 1, tid: 101, event: EventCycles, format: recordFormat{cpu: true}, role: writer}
	for _, in := range []struct {
		s   *sampler
		raw perf.RawRecord
	}{
		{wide, cyclesSample(wide.format, 100, 101, 0, 1000, 1, write...)}, // a frequency event's first period is 1 cycle
		{wide, cyclesSample(wide.format, 100, 101, 0, 2000, 2400000, write...)},
		{wide, throttleRecord(wide.format, recordThrottle, 100, 101, 0, 2500)},
		{wide, throttleRecord(wide.format, recordUnthrottle, 0, 0, 0, 4000)},
		{wide, cyclesSample(wide.format, 0, 0, 0, 4100, 2350000, write...)},     // the idle task
		{wide, cyclesSample(wide.format, 200, 201, 0, 5000, 2300000, write...)}, // the reader
		{thread, cyclesSample(thread.format, 100, 101, 1, 6000, 2410000, write...)},
	} {
		p.handleFrom(in.s, &in.raw)
	}
	if writer.samples != 3 || reader.samples != 1 || writer.badRecords+reader.badRecords != 0 {
		t.Fatalf("samples writer %d reader %d, bad records %d; want 3, 1, 0", writer.samples, reader.samples, writer.badRecords+reader.badRecords)
	}
	var cpuNS int64
	cpus := map[int32]int64{}
	for _, s := range writer.agg.order {
		cpuNS += s.cpuNS
		cpus[s.cpu] += s.samples
	}
	if want := 3 * int64(1001001); cpuNS != want {
		t.Errorf("writer: %d ns of CPU, want %d: three samples at 999 Hz, whatever their cycle counts", cpuNS, want)
	}
	if cpus[0] != 2 || cpus[1] != 1 {
		t.Errorf("writer samples by CPU %v, want 2 on CPU 0 (the CPU-wide sampler's) and 1 on CPU 1 (from PERF_SAMPLE_CPU)", cpus)
	}
	if _, held := p.tasks.pending[0]; held {
		t.Error("the idle task's samples are held for a role")
	}
	if p.throttled != 1 {
		t.Errorf("throttled %d, want 1", p.throttled)
	}
	res := p.Result()
	found := false
	for _, w := range res.Warnings {
		found = found || strings.HasPrefix(w, "cycles: the kernel throttled sampling 1 time(s), each until its next tick, as its perf interrupts took too long")
	}
	if !found {
		t.Errorf("warnings %q: want the throttling said", res.Warnings)
	}
	w := res.Roles[0]
	if err := w.Profile.CheckValid(); err != nil {
		t.Fatal(err)
	}
	if !calls(w.Profile.Sample, "copy_page_from_iter", "anon_pipe_write") {
		t.Errorf("writer profile lacks copy_page_from_iter under anon_pipe_write:\n%s", w.Profile)
	}
	if c := strings.Join(w.Profile.Comments, "\n"); !strings.Contains(c, "sampling: cycles at 999 Hz") {
		t.Errorf("comments do not say cycles was sampled:\n%s", c)
	}
}

// calls reports whether a sample's stack has callee with caller above it.
func calls(samples []*pprof.Sample, callee, caller string) bool {
	for _, s := range samples {
		var names []string
		for _, l := range s.Location {
			for _, ln := range l.Line {
				names = append(names, ln.Function.Name)
			}
		}
		if i := slices.Index(names, callee); i >= 0 && slices.Contains(names[i+1:], caller) {
			return true
		}
	}
	return false
}

// TestFollowSampleRate gives a cycles profiler a kernel that lowered
// kernel.perf_event_max_sample_rate below its frequency during a ladder
// (perf_event_open then refuses the frequency with EINVAL): the next
// samplers open at the limit, and a warning says so once; a cpu-clock
// profiler, whose period the limit does not refuse, keeps its own.
func TestFollowSampleRate(t *testing.T) {
	defer func(f func() (int, error)) { sampleRateLimit = f }(sampleRateLimit)
	sampleRateLimit = func() (int, error) { return 600, nil }
	p := &Profiler{cfg: Config{FreqHz: 999, Event: EventCycles}, warned: map[string]bool{}}
	if !p.followSampleRate() || p.cfg.FreqHz != 600 || p.followSampleRate() {
		t.Errorf("cycles at 999 Hz under a 600 Hz limit: frequency %d, want 600 once", p.cfg.FreqHz)
	}
	want := "cycles: the kernel lowered kernel.perf_event_max_sample_rate to 600 Hz, below the 999 Hz asked for, as its perf interrupts took too long; sampled at 600 Hz from then on"
	if len(p.warnings) != 1 || p.warnings[0] != want {
		t.Errorf("warnings %q, want %q", p.warnings, want)
	}
	c := &Profiler{cfg: Config{FreqHz: 999, Event: EventCPUClock}, warned: map[string]bool{}}
	if c.followSampleRate() || c.cfg.FreqHz != 999 {
		t.Errorf("cpu-clock: frequency %d, want 999 kept", c.cfg.FreqHz)
	}
}
