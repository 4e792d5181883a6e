package profile

import (
	"encoding/binary"
	"testing"

	perf "github.com/elastic/go-perf"
)

// taskSynth is a synthetic record of a switch ring for task pid/tid (the
// wall tests' synth is for pid and tid only).
func taskSynth(typ uint32, misc uint16, p, t uint32, tNS uint64, chain ...uint64) synth {
	id := binary.LittleEndian.AppendUint32(nil, p)
	id = binary.LittleEndian.AppendUint32(id, t)
	id = le64(id, tNS)
	switch typ {
	case recordSample:
		b := append(le64(nil, chain[1]), id...)
		b = le64(b, 1, uint64(len(chain)))
		return synth{typ, misc, le64(b, chain...)}
	case recordExit:
		var b []byte
		for _, v := range []uint32{p, 1, t, 1} {
			b = binary.LittleEndian.AppendUint32(b, v)
		}
		return synth{typ, misc, append(le64(b, tNS), id...)}
	}
	return synth{typ, misc, id}
}

// logInto hands recs to se as its ring reader would.
func logInto(se *switchEvent, recs ...synth) {
	for _, s := range recs {
		se.handle(&perf.RawRecord{Header: perf.RecordHeader{Type: perf.RecordType(s.typ), Misc: s.misc}, Data: s.body})
	}
}

// TestCycleTimelines plays the rings of one attached thread's inherited
// switch event on two CPUs: the attached thread and a process it forked,
// which ran on one CPU, then on the other, where it exited. Each thread's
// records come back in time order whatever ring they sat in, and the
// forked process has a timeline of its own from its first run.
func TestCycleTimelines(t *testing.T) {
	root := newTimeline(pid, tid, 5)
	cpu0 := &switchEvent{tl: root, chains: map[string]string{}}
	cpu1 := &switchEvent{tl: root, chains: map[string]string{}}
	const kid = 200
	logInto(cpu0,
		taskSynth(recordSample, 0, pid, tid, 10, chainWrite...),
		taskSynth(recordSwitch, miscSwitchOut, pid, tid, 10),
		taskSynth(recordSwitch, 0, kid, kid, 15), // the child's first run
		taskSynth(recordSample, 0, kid, kid, 25, chainRead...),
		taskSynth(recordSwitch, miscSwitchOut, kid, kid, 25),
	)
	logInto(cpu1,
		taskSynth(recordSwitch, 0, kid, kid, 40),
		taskSynth(recordExit, 0, kid, kid, 50),
		taskSynth(recordSwitch, 0, pid, tid, 30),
	)
	w := &wallRole{events: []*switchEvent{cpu1, cpu0}, startNS: 5} // the later ring first
	tls := w.cycleTimelines()
	if len(tls) != 2 || tls[0] != root || tls[1].pid != kid || tls[1].tid != kid {
		t.Fatalf("got %d timelines (first the attached one: %v), want the attached thread's, then pid %d's", len(tls), len(tls) > 0 && tls[0] == root, kid)
	}
	for _, tl := range tls {
		tl.stop(60)
	}
	for _, tc := range []struct {
		tl                       *timeline
		wall, on, off, offAtSite int64
		site                     uint64
	}{
		{root, 55, 5 + 30, 20, 20, chainWrite[1]},
		{tls[1], 35, 10 + 10, 15, 15, chainRead[1]},
	} {
		if got := [3]int64{tc.tl.wallNS(), tc.tl.onNS, tc.tl.offNS}; got != [3]int64{tc.wall, tc.on, tc.off} || tc.tl.mismatches != 0 {
			t.Errorf("tid %d: got wall, on, off %v with %d mismatches, want %v and none", tc.tl.tid, got, tc.tl.mismatches, [3]int64{tc.wall, tc.on, tc.off})
		}
		if got := offByChain(tc.tl)[tc.site]; got != tc.offAtSite {
			t.Errorf("tid %d: got %d ns off-CPU at %#x, want %d", tc.tl.tid, got, tc.site, tc.offAtSite)
		}
	}
}

// TestLiveTimelines plays the one ring of a pinned thread's switch event,
// which its reader feeds into the timelines as it reads: the attached
// thread's and, from its first run, that of a process it forked.
func TestLiveTimelines(t *testing.T) {
	root := newTimeline(pid, tid, 5)
	se := &switchEvent{tl: root, chains: map[string]string{}, live: true, born: map[uint32]*timeline{}, startNS: 5}
	const kid = 200
	logInto(se,
		taskSynth(recordSample, 0, pid, tid, 10, chainWrite...),
		taskSynth(recordSwitch, miscSwitchOut, pid, tid, 10),
		taskSynth(recordSwitch, 0, kid, kid, 15),
		taskSynth(recordSample, 0, kid, kid, 25, chainRead...),
		taskSynth(recordSwitch, miscSwitchOut, kid, kid, 25),
		taskSynth(recordSwitch, 0, pid, tid, 25),
		taskSynth(recordSwitch, 0, kid, kid, 40),
		taskSynth(recordExit, 0, kid, kid, 50),
	)
	if len(se.log) != 0 {
		t.Errorf("a live event logged %d records, want none", len(se.log))
	}
	tls := (&wallRole{events: []*switchEvent{se}, startNS: 5}).cycleTimelines()
	if len(tls) != 2 || tls[0] != root || tls[1].tid != kid {
		t.Fatalf("got %d timelines, want the attached thread's, then pid %d's", len(tls), kid)
	}
	for _, tl := range tls {
		tl.stop(60)
	}
	if got := [3]int64{root.wallNS(), root.onNS, root.offNS}; got != [3]int64{55, 40, 15} {
		t.Errorf("attached thread: got wall, on, off %v, want [55 40 15]", got)
	}
	if got := [3]int64{tls[1].wallNS(), tls[1].onNS, tls[1].offNS}; got != [3]int64{35, 20, 15} || offByChain(tls[1])[chainRead[1]] != 15 {
		t.Errorf("forked process: got wall, on, off %v and %d ns at its read, want [35 20 15] and 15", got, offByChain(tls[1])[chainRead[1]])
	}
}
