package profile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Record types of <linux/perf_event.h> (enum perf_event_type) that the
// profiler decodes.
const (
	recordMmap        = 1
	recordLost        = 2
	recordComm        = 3
	recordExit        = 4
	recordThrottle    = 5 // a frequency event's interrupts came too fast
	recordUnthrottle  = 6
	recordFork        = 7
	recordSample      = 9
	recordMmap2       = 10
	recordLostSamples = 13
	recordSwitch      = 14 // since Linux 4.3
)

// Header misc bits of <linux/perf_event.h>.
const (
	miscSwitchOut        = 1 << 13 // PERF_RECORD_MISC_SWITCH_OUT
	miscSwitchOutPreempt = 1 << 14 // PERF_RECORD_MISC_SWITCH_OUT_PREEMPT
	miscCommExec         = 1 << 13 // PERF_RECORD_MISC_COMM_EXEC (since Linux 3.16)
)

// Callchain context markers (enum perf_callchain_context): entries at or
// above contextMax are markers, not addresses.
const (
	contextKernel = 0xffffffffffffff80 // PERF_CONTEXT_KERNEL
	contextUser   = 0xfffffffffffffe00 // PERF_CONTEXT_USER
	contextMax    = 0xfffffffffffff001 // PERF_CONTEXT_MAX (-4095)
)

// headerSize is sizeof(struct perf_event_header).
const headerSize = 8

// sampleIDSize is the size of the struct sample_id trailer that
// SampleIDAll appends to non-sample records with our sample format
// (PERF_SAMPLE_TID | PERF_SAMPLE_TIME): u32 pid, tid; u64 time.
const sampleIDSize = 16

// recordFormat is what decoding needs of an event's sample_type beyond
// sampleFormat: cpu says PERF_SAMPLE_CPU is in it too (the per-thread
// samplers', see openSampler), which puts u32 cpu, res after the time in
// every sample and in every sample_id trailer.
type recordFormat struct{ cpu bool }

// idSize is the size of the format's sample_id trailer.
func (f recordFormat) idSize() int {
	if f.cpu {
		return sampleIDSize + 8
	}
	return sampleIDSize
}

var errShortRecord = errors.New("record too short")

// record is one decoded ring record. Only the fields of its type are set.
// chain aliases the input buffer and is valid until the next read.
type record struct {
	typ  uint32
	misc uint16
	// pid, tid and time come from the sample or from the sample_id trailer.
	pid, tid uint32
	time     uint64 // perf clock, nanoseconds
	// cpu is where the record was written, when hasCPU (recordFormat.cpu).
	cpu    uint32
	hasCPU bool
	// PERF_RECORD_SAMPLE: ip, period, and the raw callchain (u64 entries).
	ip, period uint64
	chain      []byte
	// PERF_RECORD_MMAP and MMAP2: the mapping and its file.
	addr, length, pgoff uint64
	prot                uint32
	file                string
	// PERF_RECORD_LOST and LOST_SAMPLES: how many records were lost.
	lost uint64
	// PERF_RECORD_FORK and EXIT: the parent's pid and tid (pid and tid
	// are the new or exiting task's).
	ppid, ptid uint32
	// PERF_RECORD_COMM: the task's new name.
	comm string
}

// decodeRecord decodes one whole record, header included, as it sits in
// the ring. It returns the record's size so callers can walk a buffer.
func decodeRecord(b []byte, r *record) (int, error) {
	if len(b) < headerSize {
		return 0, fmt.Errorf("decode record: header: %w", errShortRecord)
	}
	typ := binary.LittleEndian.Uint32(b)
	misc := binary.LittleEndian.Uint16(b[4:])
	size := int(binary.LittleEndian.Uint16(b[6:]))
	if size < headerSize || size > len(b) {
		return 0, fmt.Errorf("decode record: size %d of %d bytes: %w", size, len(b), errShortRecord)
	}
	return size, decodeBody(typ, misc, b[headerSize:size], r)
}

// decodeBody decodes the part of a record after its header, of an event
// with sampleFormat.
func decodeBody(typ uint32, misc uint16, d []byte, r *record) error {
	return recordFormat{}.decodeBody(typ, misc, d, r)
}

// decodeBody decodes the part of a record after its header, of an event
// of format f.
func (f recordFormat) decodeBody(typ uint32, misc uint16, d []byte, r *record) error {
	*r = record{typ: typ, misc: misc}
	var err error
	switch typ {
	case recordSample:
		err = f.decodeSample(d, r)
	case recordMmap, recordMmap2:
		err = f.decodeMmap(typ, d, r)
	case recordLost:
		err = f.decodeLost(d, 8, r)
	case recordLostSamples:
		err = f.decodeLost(d, 0, r)
	case recordFork, recordExit:
		err = f.decodeFork(d, r)
	case recordComm:
		err = f.decodeComm(d, r)
	case recordSwitch:
		err = f.decodeSampleID(d, r)
	}
	if err != nil {
		return fmt.Errorf("decode record type %d: %w", typ, err)
	}
	return nil
}

// decodeSample decodes a PERF_RECORD_SAMPLE body of an event with
// sampleFormat.
func decodeSample(d []byte, r *record) error { return recordFormat{}.decodeSample(d, r) }

// decodeSample decodes a PERF_RECORD_SAMPLE body with our sample format:
// u64 ip; u32 pid, tid; u64 time; [u32 cpu, res;] u64 period; u64 nr;
// u64 ips[nr].
func (f recordFormat) decodeSample(d []byte, r *record) error {
	fixed := 8 + 8 + 8 + 8 + 8
	if f.cpu {
		fixed += 8
	}
	if len(d) < fixed {
		return errShortRecord
	}
	le := binary.LittleEndian
	r.typ = recordSample
	r.ip = le.Uint64(d)
	r.pid, r.tid = le.Uint32(d[8:]), le.Uint32(d[12:])
	r.time = le.Uint64(d[16:])
	rest := d[24:]
	if f.cpu {
		r.cpu, r.hasCPU = le.Uint32(rest), true
		rest = rest[8:]
	}
	r.period = le.Uint64(rest)
	nr := le.Uint64(rest[8:])
	if nr > uint64(len(d)-fixed)/8 {
		return fmt.Errorf("callchain of %d entries: %w", nr, errShortRecord)
	}
	r.chain = d[fixed : fixed+int(nr)*8]
	return nil
}

// decodeMmap decodes PERF_RECORD_MMAP (u32 pid, tid; u64 addr, len, pgoff;
// char filename[]) and PERF_RECORD_MMAP2 (the same with 24 bytes of device,
// inode or build id, then u32 prot, flags, before the filename).
func (f recordFormat) decodeMmap(typ uint32, d []byte, r *record) error {
	fixed := 32
	if typ == recordMmap2 {
		fixed += 24 + 8
	}
	if len(d) < fixed+f.idSize() {
		return errShortRecord
	}
	le := binary.LittleEndian
	r.pid, r.tid = le.Uint32(d), le.Uint32(d[4:])
	r.addr, r.length, r.pgoff = le.Uint64(d[8:]), le.Uint64(d[16:]), le.Uint64(d[24:])
	r.prot = 0x4 // PROT_EXEC: PERF_RECORD_MMAP only reports executable maps
	if typ == recordMmap2 {
		r.prot = le.Uint32(d[56:])
	}
	name := d[fixed : len(d)-f.idSize()]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	r.file = string(name)
	return f.decodeSampleID(d, r)
}

// decodeFork decodes PERF_RECORD_FORK and PERF_RECORD_EXIT: u32 pid,
// ppid; u32 tid, ptid; u64 time; then the sample_id trailer, whose time
// is the same.
func (f recordFormat) decodeFork(d []byte, r *record) error {
	if len(d) < 24+f.idSize() {
		return errShortRecord
	}
	le := binary.LittleEndian
	if err := f.decodeSampleID(d, r); err != nil {
		return err
	}
	r.pid, r.ppid, r.tid, r.ptid = le.Uint32(d), le.Uint32(d[4:]), le.Uint32(d[8:]), le.Uint32(d[12:])
	r.time = le.Uint64(d[16:])
	return nil
}

// decodeComm decodes PERF_RECORD_COMM: u32 pid, tid; char comm[] (NUL
// terminated, padded to 8 bytes); then the sample_id trailer.
func (f recordFormat) decodeComm(d []byte, r *record) error {
	if len(d) < 8+f.idSize() {
		return errShortRecord
	}
	if err := f.decodeSampleID(d, r); err != nil {
		return err
	}
	le := binary.LittleEndian
	r.pid, r.tid = le.Uint32(d), le.Uint32(d[4:])
	name := d[8 : len(d)-f.idSize()]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	r.comm = string(name)
	return nil
}

// decodeLost is recordFormat.decodeLost for an event with sampleFormat.
func decodeLost(d []byte, skip int, r *record) error { return recordFormat{}.decodeLost(d, skip, r) }

// decodeLost decodes PERF_RECORD_LOST (u64 id; u64 lost) when skip is 8,
// and PERF_RECORD_LOST_SAMPLES (u64 lost) when skip is 0.
func (f recordFormat) decodeLost(d []byte, skip int, r *record) error {
	if len(d) < skip+8 {
		return errShortRecord
	}
	r.lost = binary.LittleEndian.Uint64(d[skip:])
	if len(d) >= skip+8+f.idSize() {
		return f.decodeSampleID(d, r)
	}
	return nil
}

// decodeSampleID reads the struct sample_id trailer at the end of d:
// u32 pid, tid; u64 time; [u32 cpu, res].
func (f recordFormat) decodeSampleID(d []byte, r *record) error {
	if len(d) < f.idSize() {
		return errShortRecord
	}
	t := d[len(d)-f.idSize():]
	le := binary.LittleEndian
	r.pid, r.tid = le.Uint32(t), le.Uint32(t[4:])
	r.time = le.Uint64(t[8:])
	if f.cpu {
		r.cpu, r.hasCPU = le.Uint32(t[16:]), true
	}
	return nil
}

// recordPID returns the pid that decodeBody would give a record body d of
// type typ, without decoding the rest: the sample's, or the sample_id
// trailer's. ok is false when the record carries none or is too short.
func recordPID(typ uint32, d []byte) (pid uint32, ok bool) {
	switch typ {
	case recordSample:
		if len(d) >= 12 {
			return binary.LittleEndian.Uint32(d[8:]), true
		}
	case recordMmap, recordMmap2, recordComm, recordExit, recordFork, recordSwitch, recordLost, recordLostSamples:
		if len(d) >= sampleIDSize {
			return binary.LittleEndian.Uint32(d[len(d)-sampleIDSize:]), true
		}
	}
	return 0, false
}

// hasKernelFrame reports whether a decoded sample's callchain holds at
// least one kernel address.
func (r *record) hasKernelFrame() bool {
	inKernel := false
	for i := 0; i+8 <= len(r.chain); i += 8 {
		v := binary.LittleEndian.Uint64(r.chain[i:])
		switch {
		case v == contextKernel:
			inKernel = true
		case v >= contextMax:
			inKernel = false
		case inKernel:
			return true
		}
	}
	return false
}
