package profile

import (
	"encoding/binary"
	"fmt"
	"os"
	"reflect"
	"testing"

	perf "github.com/elastic/go-perf"
)

// TestRecordPID checks the pid that CPU-wide rings are sorted by against
// the full decoder, on the real records of the ring fixture and on each
// side-band type.
func TestRecordPID(t *testing.T) {
	b, err := os.ReadFile(ringFixture)
	if err != nil {
		t.Fatal(err)
	}
	lost := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 1), 5)
	b = append(b, sideBand(recordLost, 0, 4242, 4243, 1, lost)...)
	b = append(b, sideBand(recordSwitch, miscSwitchOut, 4244, 4245, 1, nil)...)
	b = append(b, sideBand(recordMmap2, 0, 4246, 4246, 1, mmap2Body(0x1000, 0x1000, 0, 4, "/bin/true"))...)
	seen := map[uint32]bool{}
	var r record
	for off := 0; off < len(b); {
		n, err := decodeRecord(b[off:], &r)
		if err != nil {
			t.Fatalf("record at %d: %v", off, err)
		}
		typ := binary.LittleEndian.Uint32(b[off:])
		pid, ok := recordPID(typ, b[off+headerSize:off+n])
		off += n
		if !ok || pid != r.pid {
			t.Errorf("record type %d: recordPID got %d, %v; want %d, true", typ, pid, ok, r.pid)
		}
		seen[typ] = true
	}
	for _, typ := range []uint32{recordSample, recordMmap2, recordLost, recordSwitch} {
		if !seen[typ] {
			t.Errorf("no record of type %d checked", typ)
		}
	}
	if _, ok := recordPID(recordSample, make([]byte, 11)); ok {
		t.Error("recordPID of an 11-byte sample: got ok, want not ok")
	}
}

// TestHandleFromCPUWide feeds a CPU-wide sampler's records: samples and
// mappings of the children go to their roles, another process's are
// dropped, and a lost count without a child's pid goes to the role last
// sampled on that ring.
func TestHandleFromCPUWide(t *testing.T) {
	p, err := New(Config{FreqHz: 999, Mode: "write"})
	if err != nil {
		t.Fatal(err)
	}
	w, r := p.roles[0], p.roles[1]
	p.pidRole[100], p.pidRole[200] = w, r
	s := &sampler{cpu: 0, tid: -1}
	feed := func(rec []byte) { feedRecord(p, s, rec) }
	lost := func(n uint64) []byte {
		return sideBand(recordLost, 0, 999, 999, 1, binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 1), n))
	}
	chain := []uint64{contextKernel, 0xffffffff81000010}
	feed(lost(1)) // before any sample: the writer
	feed(sampleBytes(200, 201, 1000, chain...))
	feed(sampleBytes(300, 300, 1000, chain...)) // not a child
	feed(lost(3))                               // the reader, sampled last
	feed(sampleBytes(100, 101, 1000, chain...))
	feed(sideBand(recordMmap2, 0, 300, 300, 1, mmap2Body(0x1000, 0x1000, 0, 4, "/other")))
	feed(sideBand(recordMmap2, 0, 100, 100, 1, mmap2Body(0x1000, 0x1000, 0, 4, "/mine")))
	if w.samples != 1 || r.samples != 1 {
		t.Errorf("samples: writer %d, reader %d; want 1 and 1", w.samples, r.samples)
	}
	if w.lost != 1 || r.lost != 3 {
		t.Errorf("lost: writer %d, reader %d; want 1 and 3", w.lost, r.lost)
	}
	if m, ok := p.sym.space(100).find(0x1800); !ok || m.file != "/mine" {
		t.Errorf("pid 100 mapping at 0x1800: got %+v %v, want /mine", m, ok)
	}
	p.settle()
	if w.samples != 1 || r.samples != 1 {
		t.Errorf("after settle: samples: writer %d, reader %d; want 1 and 1 (pid 300 is no child's)", w.samples, r.samples)
	}
}

// forkBody is PERF_RECORD_FORK's body before the sample_id trailer.
func forkBody(pid, ppid, tid, ptid uint32, time uint64) []byte {
	var b []byte
	for _, v := range []uint32{pid, ppid, tid, ptid} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return binary.LittleEndian.AppendUint64(b, time)
}

// commBody is PERF_RECORD_COMM's body before the sample_id trailer.
func commBody(pid, tid uint32, comm string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, pid)
	b = binary.LittleEndian.AppendUint32(b, tid)
	b = append(b, comm...)
	for n := len(comm) + 1; ; n++ {
		b = append(b, 0)
		if n%8 == 0 {
			break
		}
	}
	return b
}

// TestDescendants feeds the records of a writer that forks a child, which
// forks a grandchild whose samples come in before the fork record that
// names its parent, and execs: both join the writer, each sample labelled
// with the comm its task had and the ring's CPU, and the exec drops the
// mappings of the old program.
func TestDescendants(t *testing.T) {
	p, err := New(Config{FreqHz: 999, Mode: "ext"})
	if err != nil {
		t.Fatal(err)
	}
	w := p.roles[0]
	p.pidRole[100], p.pidRole[200] = w, p.roles[1]
	p.tasks.comm[100] = "pipelab-writer"
	s := &sampler{cpu: 1, tid: -1}
	feed := func(rec []byte) { feedRecord(p, s, rec) }
	chain := []uint64{contextKernel, 0xffffffff81000010}
	feed(sideBand(recordMmap2, 0, 100, 100, 1, mmap2Body(0x1000, 0x1000, 0, 4, "/old")))
	feed(sideBand(recordComm, miscCommExec, 100, 100, 5, commBody(100, 100, "sh")))
	feed(sideBand(recordMmap2, 0, 100, 100, 6, mmap2Body(0x8000, 0x1000, 0, 4, "/bin/sh")))
	feed(sampleBytes(100, 100, 1000, chain...))
	feed(sideBand(recordFork, 0, 400, 400, 10, forkBody(400, 100, 400, 100, 10)))
	feed(sampleBytes(400, 400, 1000, chain...))
	feed(sampleBytes(500, 500, 1000, chain...)) // its fork record comes later
	feed(sideBand(recordFork, 0, 500, 500, 12, forkBody(500, 400, 500, 400, 12)))
	feed(sideBand(recordComm, miscCommExec, 500, 500, 13, commBody(500, 500, "cat")))
	feed(sampleBytes(500, 500, 1000, chain...))
	feed(sampleBytes(600, 600, 1000, chain...)) // nobody's
	p.settle()
	if w.samples != 4 {
		t.Errorf("writer samples: got %d, want 4 (sh, its child, its grandchild twice)", w.samples)
	}
	got := map[string]int64{}
	for _, st := range w.agg.order {
		got[fmt.Sprintf("%d/%s/cpu%d", st.pid, st.comm, st.cpu)] += st.samples
	}
	want := map[string]int64{"100/sh/cpu1": 1, "400/sh/cpu1": 1, "500/cat/cpu1": 2}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("writer stacks by pid/comm/cpu: got %v, want %v", got, want)
	}
	if _, ok := p.sym.space(100).find(0x1800); ok {
		t.Error("pid 100 still maps /old after its exec")
	}
	if m, ok := p.sym.space(400).find(0x8800); !ok || m.file != "/bin/sh" {
		t.Errorf("pid 400 (forked) at 0x8800: got %+v %v, want its parent's /bin/sh", m, ok)
	}
}

// feedRecord hands rec, a whole record as the ring holds it (header and
// body), to p as if sampler s had read it.
func feedRecord(p *Profiler, s *sampler, rec []byte) {
	raw := perf.RawRecord{Data: rec[headerSize:]}
	raw.Header.Type = perf.RecordType(binary.LittleEndian.Uint32(rec))
	raw.Header.Misc = binary.LittleEndian.Uint16(rec[4:])
	raw.Header.Size = binary.LittleEndian.Uint16(rec[6:])
	p.handleFrom(s, &raw)
}
