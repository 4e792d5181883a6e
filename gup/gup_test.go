package gup

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unsafe"
)

// TestLayout holds test to struct gup_test of mm/gup_test.h: the offset
// and size of every field, the struct's size, and the ioctl number
// _IOWR('g', 1, struct gup_test) the kernel's header computes.
func TestLayout(t *testing.T) {
	var g test
	for _, c := range []struct {
		name         string
		off, size    uintptr
		wantOff, wsz uintptr
	}{
		{"get_delta_usec", unsafe.Offsetof(g.getDeltaUsec), unsafe.Sizeof(g.getDeltaUsec), 0, 8},
		{"put_delta_usec", unsafe.Offsetof(g.putDeltaUsec), unsafe.Sizeof(g.putDeltaUsec), 8, 8},
		{"addr", unsafe.Offsetof(g.addr), unsafe.Sizeof(g.addr), 16, 8},
		{"size", unsafe.Offsetof(g.size), unsafe.Sizeof(g.size), 24, 8},
		{"nr_pages_per_call", unsafe.Offsetof(g.nrPagesPerCall), unsafe.Sizeof(g.nrPagesPerCall), 32, 4},
		{"gup_flags", unsafe.Offsetof(g.gupFlags), unsafe.Sizeof(g.gupFlags), 36, 4},
		{"test_flags", unsafe.Offsetof(g.testFlags), unsafe.Sizeof(g.testFlags), 40, 4},
		{"which_pages", unsafe.Offsetof(g.whichPages), unsafe.Sizeof(g.whichPages), 44, 32},
	} {
		if c.off != c.wantOff || c.size != c.wsz {
			t.Errorf("%s: offset %d size %d, want offset %d size %d", c.name, c.off, c.size, c.wantOff, c.wsz)
		}
	}
	if testSize != 80 {
		t.Errorf("sizeof(struct gup_test): got %d, want 80 (76 bytes of fields, padded to 8)", testSize)
	}
	// _IOWR('g', 1, 80): read|write (3) << 30 | 80 << 16 | 'g' << 8 | 1.
	if fastBenchmark != 0xc0506701 {
		t.Errorf("GUP_FAST_BENCHMARK: got %#x, want 0xc0506701", fastBenchmark)
	}
}

// TestEncode: the bytes the kernel reads hold each field where the C
// struct has it, little-endian.
func TestEncode(t *testing.T) {
	g := test{getDeltaUsec: 1, putDeltaUsec: 2, addr: 0x7f0000001000, size: 256 << 10, nrPagesPerCall: 32, gupFlags: 5, testFlags: 6}
	g.whichPages[0], g.whichPages[7] = 9, 10
	b := g.encode()
	le := binary.LittleEndian
	for _, c := range []struct {
		name string
		got  uint64
		want uint64
	}{
		{"get_delta_usec", le.Uint64(b[0:]), 1},
		{"put_delta_usec", le.Uint64(b[8:]), 2},
		{"addr", le.Uint64(b[16:]), 0x7f0000001000},
		{"size", le.Uint64(b[24:]), 256 << 10},
		{"nr_pages_per_call", uint64(le.Uint32(b[32:])), 32},
		{"gup_flags", uint64(le.Uint32(b[36:])), 5},
		{"test_flags", uint64(le.Uint32(b[40:])), 6},
		{"which_pages[0]", uint64(le.Uint32(b[44:])), 9},
		{"which_pages[7]", uint64(le.Uint32(b[72:])), 10},
		{"padding", uint64(le.Uint32(b[76:])), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
	// The in-memory struct the ioctl passes is the same bytes.
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&g)), testSize)
	if string(mem) != string(b) {
		t.Error("the struct in memory differs from its encoding")
	}
}

// TestRun runs the benchmark where the kernel has gup_test, and otherwise
// checks that Probe says why not and how to get it.
func TestRun(t *testing.T) {
	err := Probe()
	if errors.Is(err, ErrNotSupported) {
		if Probe().Error() == "" {
			t.Fatal("empty reason")
		}
		t.Skipf("no gup_test here: %v", err)
	}
	if err != nil {
		t.Skipf("gup_test refused: %v", err)
	}
	for _, huge := range []bool{false, true} {
		r, err := Run(Options{BufSize: 256 << 10, Bytes: 64 << 20, Huge: huge})
		if err != nil {
			t.Fatal(err)
		}
		if r.Calls != 2*(64<<20)/(256<<10) || r.PagesPerCall != 32 {
			t.Errorf("huge=%v: %d calls of %d pages, want %d of 32", huge, r.Calls, r.PagesPerCall, 2*(64<<20)/(256<<10))
		}
	}
}

func TestParseConfig(t *testing.T) {
	const config = "CONFIG_DEBUG_FS=y\n# CONFIG_GUP_TEST is not set\nCONFIG_LOCALVERSION=\"-fc\"\n"
	for _, c := range []struct {
		name, want string
		ok         bool
	}{
		{"CONFIG_GUP_TEST", "n", true},
		{"CONFIG_DEBUG_FS", "y", true},
		{"CONFIG_LOCALVERSION", `"-fc"`, true},
		{"CONFIG_GUP", "", false},
	} {
		if v, ok := parseConfig(strings.NewReader(config), c.name); v != c.want || ok != c.ok {
			t.Errorf("%s: got %q %v, want %q %v", c.name, v, ok, c.want, c.ok)
		}
	}
}
