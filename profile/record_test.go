package profile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"reflect"
	"runtime"
	"testing"

	perf "github.com/elastic/go-perf"
	"golang.org/x/sys/unix"
)

var update = flag.Bool("update", false, "rewrite testdata fixtures from this kernel")

// ringFixture holds records captured from a real cpu-clock ring of this
// package's sampling attributes: the sampled thread made pipe syscalls and
// mapped /bin/true executable, so it holds samples with kernel frames and
// an MMAP2 record.
const ringFixture = "testdata/ring-self.bin"

func TestDecodeRecordFixture(t *testing.T) {
	if *update {
		captureRing(t)
	}
	b, err := os.ReadFile(ringFixture)
	if err != nil {
		t.Fatal(err)
	}
	var r record
	counts := map[uint32]int{}
	kernel, sawTrue := 0, false
	for off := 0; off < len(b); {
		n, err := decodeRecord(b[off:], &r)
		if err != nil {
			t.Fatalf("record at %d: %v", off, err)
		}
		off += n
		counts[r.typ]++
		switch r.typ {
		case recordSample:
			if len(r.chain) == 0 || binary.LittleEndian.Uint64(r.chain) < contextMax {
				t.Errorf("sample callchain does not start with a context marker: % x", r.chain)
			}
			if r.period == 0 || r.time == 0 || r.pid == 0 || r.tid == 0 {
				t.Errorf("sample: period %d time %d pid %d tid %d, want all set", r.period, r.time, r.pid, r.tid)
			}
			if r.hasKernelFrame() {
				kernel++
			}
		case recordMmap2:
			if r.file == "/usr/bin/true" || r.file == "/bin/true" {
				sawTrue = r.prot&unix.PROT_EXEC != 0 && r.length > 0
			}
		}
	}
	if counts[recordSample] < 5 || kernel == 0 {
		t.Errorf("got %d samples, %d with kernel frames; want >= 5 and > 0", counts[recordSample], kernel)
	}
	if !sawTrue {
		t.Errorf("no executable MMAP2 record of /bin/true; record counts %v", counts)
	}
}

// captureRing samples this thread with the profiler's attributes and
// writes the raw ring records to ringFixture.
func captureRing(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	attr := samplingAttr(EventCPUClock, 10000)
	ev, err := perf.Open(&attr, unix.Gettid(), perf.AnyCPU, nil)
	if err != nil {
		t.Skipf("perf events refused: %v", err)
	}
	defer ev.Close()
	if err := ev.MapRingNumPages(64); err != nil {
		t.Fatal(err)
	}
	ev.Enable()
	busySyscalls(20e6)
	f, err := os.Open("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, 4096, unix.PROT_READ|unix.PROT_EXEC, unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	unix.Munmap(m)
	f.Close()
	busySyscalls(10e6)
	ev.Disable()
	var out bytes.Buffer
	var raw perf.RawRecord
	for ev.HasRecord() && ev.ReadRawRecord(expiredCtx(), &raw) == nil {
		binary.Write(&out, binary.LittleEndian, raw.Header)
		out.Write(raw.Data)
	}
	if err := os.WriteFile(ringFixture, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sampleBytes builds a PERF_RECORD_SAMPLE of our format.
func sampleBytes(pid, tid uint32, period uint64, chain ...uint64) []byte {
	le := binary.LittleEndian
	b := make([]byte, 8)
	b = le.AppendUint64(b, chain[len(chain)-1]) // ip
	b = le.AppendUint32(b, pid)
	b = le.AppendUint32(b, tid)
	b = le.AppendUint64(b, 12345) // time
	b = le.AppendUint64(b, period)
	b = le.AppendUint64(b, uint64(len(chain)))
	for _, c := range chain {
		b = le.AppendUint64(b, c)
	}
	return header(b, recordSample, 0)
}

// header fills in the perf_event_header of b.
func header(b []byte, typ uint32, misc uint16) []byte {
	binary.LittleEndian.PutUint32(b, typ)
	binary.LittleEndian.PutUint16(b[4:], misc)
	binary.LittleEndian.PutUint16(b[6:], uint16(len(b)))
	return b
}

// sideBand builds a non-sample record: body, then the sample_id trailer.
func sideBand(typ uint32, misc uint16, pid, tid uint32, time uint64, body []byte) []byte {
	b := append(make([]byte, 8), body...)
	b = binary.LittleEndian.AppendUint32(b, pid)
	b = binary.LittleEndian.AppendUint32(b, tid)
	b = binary.LittleEndian.AppendUint64(b, time)
	return header(b, typ, misc)
}

func mmap2Body(addr, length, pgoff uint64, prot uint32, file string) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 7)
	b = le.AppendUint32(b, 7)
	b = le.AppendUint64(b, addr)
	b = le.AppendUint64(b, length)
	b = le.AppendUint64(b, pgoff)
	b = append(b, make([]byte, 24)...)
	b = le.AppendUint32(b, prot)
	b = le.AppendUint32(b, 0)
	name := append([]byte(file), 0)
	for len(name)%8 != 0 {
		name = append(name, 0)
	}
	return append(b, name...)
}

func TestDecodeRecord(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		name string
		in   []byte
		want record
	}{
		{"sample", sampleBytes(10, 11, 1001001, contextKernel, 0xffffffff81bafa90, contextUser, 0x401000),
			record{typ: recordSample, pid: 10, tid: 11, time: 12345, ip: 0x401000, period: 1001001}},
		{"mmap2", sideBand(recordMmap2, 0, 10, 10, 99, mmap2Body(0x7f0000, 0x2000, 0x1000, 5, "/usr/lib/libc.so.6")),
			record{typ: recordMmap2, pid: 10, tid: 10, time: 99, addr: 0x7f0000, length: 0x2000, pgoff: 0x1000, prot: 5, file: "/usr/lib/libc.so.6"}},
		{"lost", sideBand(recordLost, 0, 10, 11, 7, le.AppendUint64(le.AppendUint64(nil, 1), 42)),
			record{typ: recordLost, pid: 10, tid: 11, time: 7, lost: 42}},
		{"lost samples", sideBand(recordLostSamples, 0, 10, 11, 8, le.AppendUint64(nil, 3)),
			record{typ: recordLostSamples, pid: 10, tid: 11, time: 8, lost: 3}},
		{"switch out", sideBand(recordSwitch, miscSwitchOut, 10, 11, 9, nil),
			record{typ: recordSwitch, misc: miscSwitchOut, pid: 10, tid: 11, time: 9}},
		{"unknown type", header(make([]byte, 16), 77, 0), record{typ: 77}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got record
			n, err := decodeRecord(tt.in, &got)
			if err != nil || n != len(tt.in) {
				t.Fatalf("got n=%d err=%v, want n=%d, nil", n, err, len(tt.in))
			}
			if tt.want.typ == recordSample && len(got.chain) != 4*8 {
				t.Errorf("callchain: got %d bytes, want 32", len(got.chain))
			}
			got.chain = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	full := sampleBytes(1, 1, 1, contextUser, 0x401000)
	short := append([]byte(nil), full...)
	binary.LittleEndian.PutUint64(short[8+32:], 1000) // nr beyond the record
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"no header", full[:5], "decode record: header: record too short"},
		{"size past buffer", full[:len(full)-8], "decode record: size 64 of 56 bytes: record too short"},
		{"callchain past record", short, "decode record type 9: callchain of 1000 entries: record too short"},
		{"mmap2 body", header(make([]byte, 24), recordMmap2, 0), "decode record type 10: record too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r record
			_, err := decodeRecord(tt.in, &r)
			if err == nil || err.Error() != tt.want || !errors.Is(err, errShortRecord) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzDecodeRecord(f *testing.F) {
	if b, err := os.ReadFile(ringFixture); err == nil {
		for off := 0; off+8 <= len(b); {
			size := int(binary.LittleEndian.Uint16(b[off+6:]))
			if size < 8 || off+size > len(b) {
				break
			}
			f.Add(b[off : off+size])
			off += size
		}
	}
	f.Add(sampleBytes(1, 2, 3, contextKernel, 0xffffffff81000000, contextUser, 0x401000))
	f.Add(sideBand(recordMmap2, 0, 1, 1, 1, mmap2Body(0x1000, 0x1000, 0, 5, "/x")))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r record
		n, err := decodeRecord(b, &r)
		if err != nil {
			return
		}
		if n < headerSize || n > len(b) {
			t.Fatalf("size %d outside [8, %d]", n, len(b))
		}
		if len(r.chain)%8 != 0 {
			t.Fatalf("callchain of %d bytes", len(r.chain))
		}
		r.hasKernelFrame()
	})
}

// TestSamplingAttr checks the two sampled events' attributes: cpu-clock a
// software timer with a period in nanoseconds, cycles the hardware counter
// at a frequency, both disabled, idle excluded, with callchains.
func TestSamplingAttr(t *testing.T) {
	for _, c := range []struct {
		event  string
		typ    perf.EventType
		config uint64
		freq   bool
		sample uint64
	}{
		{EventCPUClock, perf.SoftwareEvent, uint64(perf.CPUClock), false, 1001001},
		{EventCycles, perf.HardwareEvent, uint64(perf.CPUCycles), true, 999},
	} {
		a := samplingAttr(c.event, 999)
		if a.Type != c.typ || a.Config != c.config || a.Options.Freq != c.freq || a.Sample != c.sample || a.Label != c.event {
			t.Errorf("%s: got type %v config %d freq %v sample %d label %q; want %v %d %v %d %q",
				c.event, a.Type, a.Config, a.Options.Freq, a.Sample, a.Label, c.typ, c.config, c.freq, c.sample, c.event)
		}
		if !a.Options.Disabled || !a.Options.ExcludeIdle || !a.SampleFormat.Callchain {
			t.Errorf("%s: want disabled, idle excluded, callchains: %+v", c.event, a.Options)
		}
	}
}

// TestDecodeRecordCPU decodes the records of a per-thread sampler, whose
// sample_type adds PERF_SAMPLE_CPU: u32 cpu, res after the time, in the
// sample and in the sample_id trailer of side-band records.
func TestDecodeRecordCPU(t *testing.T) {
	le := binary.LittleEndian
	b := make([]byte, 8)
	b = le.AppendUint64(b, 0x401000) // ip
	b = le.AppendUint32(b, 10)
	b = le.AppendUint32(b, 11)
	b = le.AppendUint64(b, 12345) // time
	b = le.AppendUint32(b, 1)     // cpu
	b = le.AppendUint32(b, 0)     // res
	b = le.AppendUint64(b, 1001001)
	b = le.AppendUint64(b, 2)
	b = le.AppendUint64(b, contextUser)
	b = le.AppendUint64(b, 0x401000)
	sample := header(b, recordSample, 0)

	comm := le.AppendUint32(nil, 10)
	comm = le.AppendUint32(comm, 11)
	comm = append(comm, "dd\x00\x00\x00\x00\x00\x00"...)
	comm = le.AppendUint32(comm, 10)
	comm = le.AppendUint32(comm, 11)
	comm = le.AppendUint64(comm, 99)
	comm = le.AppendUint32(comm, 1)
	comm = le.AppendUint32(comm, 0)
	commRec := header(append(make([]byte, 8), comm...), recordComm, 0)

	for _, tt := range []struct {
		name string
		in   []byte
		want record
	}{
		{"sample", sample, record{typ: recordSample, pid: 10, tid: 11, time: 12345, cpu: 1, hasCPU: true, ip: 0x401000, period: 1001001}},
		{"comm", commRec, record{typ: recordComm, pid: 10, tid: 11, time: 99, cpu: 1, hasCPU: true, comm: "dd"}},
	} {
		var got record
		if err := (recordFormat{cpu: true}).decodeBody(le.Uint32(tt.in), le.Uint16(tt.in[4:]), tt.in[headerSize:], &got); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got.chain = nil
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}
