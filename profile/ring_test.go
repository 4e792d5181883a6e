package profile

import (
	"encoding/binary"
	"os"
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
	feed := func(rec []byte) {
		raw := perf.RawRecord{Data: rec[headerSize:]}
		raw.Header.Type = perf.RecordType(binary.LittleEndian.Uint32(rec))
		raw.Header.Misc = binary.LittleEndian.Uint16(rec[4:])
		raw.Header.Size = binary.LittleEndian.Uint16(rec[6:])
		p.handleFrom(s, &raw)
	}
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
	if _, ok := p.sym.spaces[300]; ok {
		t.Error("mapping of pid 300 kept, want dropped")
	}
	if m, ok := p.sym.space(100).find(0x1800); !ok || m.file != "/mine" {
		t.Errorf("pid 100 mapping at 0x1800: got %+v %v, want /mine", m, ok)
	}
}
