// Package gup runs the kernel's own benchmark of get_user_pages_fast, the
// page-table walk vmsplice does for every page it puts into a pipe: the
// GUP_FAST_BENCHMARK ioctl on /sys/kernel/debug/gup_test, which exists only
// in kernels built with CONFIG_GUP_TEST=y. It times the walk over a buffer
// the way the post's get-user-pages.cpp does, on small pages and on a
// huge page, so the two can be compared side by side.
//
// gup is a leaf: it imports golang.org/x/sys/unix and nothing of pipelab.
package gup

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Path is the kernel's gup_test file in debugfs.
const Path = "/sys/kernel/debug/gup_test"

// debugfsDir is where debugfs is mounted.
const debugfsDir = "/sys/kernel/debug"

// ErrNotSupported means this kernel has no gup_test: it lacks
// CONFIG_GUP_TEST, or debugfs is not mounted. Errors wrapping it carry the
// remedy.
var ErrNotSupported = errors.New("the kernel's get_user_pages benchmark is not available")

// maxPagesToDump is GUP_TEST_MAX_PAGES_TO_DUMP of mm/gup_test.h.
const maxPagesToDump = 8

// test mirrors struct gup_test of the kernel's mm/gup_test.h (the layout
// since Linux 5.12, when gup_flags, test_flags and which_pages arrived;
// still the layout in 6.18): 80 bytes with the trailing padding to the
// struct's 8-byte alignment.
type test struct {
	getDeltaUsec   uint64 // out: time in get_user_pages_fast, µs
	putDeltaUsec   uint64 // out: time unpinning, µs
	addr           uint64
	size           uint64 // bytes of the buffer walked per ioctl
	nrPagesPerCall uint32 // pages per get_user_pages_fast call
	gupFlags       uint32 // FOLL_* flags; 0 as in the post
	testFlags      uint32
	whichPages     [maxPagesToDump]uint32 // for DUMP_USER_PAGES_TEST only
	_              uint32
}

// testSize is sizeof(struct gup_test).
const testSize = unsafe.Sizeof(test{})

// ioctl request encoding of <asm-generic/ioctl.h>: nr in bits 0-7, type in
// 8-15, size in 16-29, direction in 30-31.
const (
	iocWrite = 1
	iocRead  = 2
)

func ioc(dir, typ, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | typ<<8 | nr
}

// fastBenchmark is GUP_FAST_BENCHMARK, _IOWR('g', 1, struct gup_test).
var fastBenchmark = ioc(iocRead|iocWrite, 'g', 1, testSize)

// encode returns t's bytes as the kernel reads them on a little-endian
// machine, for tests against the C layout.
func (t *test) encode() []byte {
	b := make([]byte, testSize)
	le := binary.LittleEndian
	le.PutUint64(b[0:], t.getDeltaUsec)
	le.PutUint64(b[8:], t.putDeltaUsec)
	le.PutUint64(b[16:], t.addr)
	le.PutUint64(b[24:], t.size)
	le.PutUint32(b[32:], t.nrPagesPerCall)
	le.PutUint32(b[36:], t.gupFlags)
	le.PutUint32(b[40:], t.testFlags)
	for i, p := range t.whichPages {
		le.PutUint32(b[44+4*i:], p)
	}
	return b
}

// Probe opens the gup_test file and closes it again: nil when the
// benchmark can run, else an error wrapping ErrNotSupported (with the
// remedy) or the errno (e.g. permission denied).
func Probe() error {
	f, err := open()
	if err != nil {
		return err
	}
	return f.Close()
}

func open() (*os.File, error) {
	f, err := os.OpenFile(Path, os.O_RDWR, 0)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open %s: %w", Path, unwrapPath(err))
	}
	if v, ok := configValue(configPath, "CONFIG_GUP_TEST"); ok && v != "y" {
		return nil, fmt.Errorf("%w: this kernel lacks CONFIG_GUP_TEST (%s says %s), so there is no %s (use a kernel built with CONFIG_GUP_TEST=y, with debugfs mounted at %s)", ErrNotSupported, configPath, configLine("CONFIG_GUP_TEST", v), Path, debugfsDir)
	}
	var st unix.Statfs_t
	if unix.Statfs(debugfsDir, &st) != nil || st.Type != unix.DEBUGFS_MAGIC {
		return nil, fmt.Errorf("%w: debugfs is not mounted at %s (mount it: mount -t debugfs none %s; the kernel also needs CONFIG_GUP_TEST=y)", ErrNotSupported, debugfsDir, debugfsDir)
	}
	return nil, fmt.Errorf("%w: %s does not exist: this kernel lacks CONFIG_GUP_TEST (use a kernel built with CONFIG_GUP_TEST=y, with debugfs mounted at %s)", ErrNotSupported, Path, debugfsDir)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Options shape one benchmark, as get-user-pages.cpp's flags do.
type Options struct {
	// BufSize is the buffer in bytes; each get_user_pages_fast call walks
	// one half of it, as vmsplice does with the post's double buffer.
	BufSize int
	// Bytes is how much to walk in all: Bytes/(BufSize/2) calls.
	Bytes int64
	// Huge backs the buffer with a transparent huge page (2 MiB aligned,
	// MADV_HUGEPAGE); otherwise small pages.
	Huge bool
}

// Result is what one benchmark measured.
type Result struct {
	// Calls is how many get_user_pages_fast calls ran, each of
	// PagesPerCall 4 KiB pages.
	Calls        int64
	PagesPerCall int
	// GetMicros is the kernel's sum of get_delta_usec: time inside
	// get_user_pages_fast, in µs (the kernel's clock, 1 µs resolution per
	// ioctl).
	GetMicros uint64
}

// MicrosPerCall is the time of one get_user_pages_fast call, in µs.
func (r Result) MicrosPerCall() float64 { return float64(r.GetMicros) / float64(r.Calls) }

// NanosPerPage is the time per 4 KiB page walked and pinned, in ns.
func (r Result) NanosPerPage() float64 {
	return 1000 * float64(r.GetMicros) / float64(r.Calls*int64(r.PagesPerCall))
}

// Run benchmarks get_user_pages_fast on a buffer shaped by o: it touches
// every page first (as the post does unless --dont_touch_pages), then
// issues GUP_FAST_BENCHMARK ioctls over the whole buffer, two calls of one
// half each, until o.Bytes are walked.
func Run(o Options) (Result, error) {
	const page = 4096
	if o.BufSize < 2*page || o.BufSize%(2*page) != 0 {
		return Result{}, fmt.Errorf("buffer of %d bytes: want two halves of whole 4 KiB pages", o.BufSize)
	}
	f, err := open()
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	buf, release, err := buffer(o.BufSize, o.Huge)
	if err != nil {
		return Result{}, err
	}
	defer release()
	for i := range buf {
		buf[i] = '0'
	}
	half := o.BufSize / 2
	t := test{addr: uint64(uintptr(unsafe.Pointer(&buf[0]))), nrPagesPerCall: uint32(half / page)}
	r := Result{PagesPerCall: half / page}
	for done := int64(0); done < o.Bytes; done += int64(o.BufSize) {
		t.size = uint64(o.BufSize)
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fastBenchmark, uintptr(unsafe.Pointer(&t))); errno != 0 {
			return r, fmt.Errorf("ioctl GUP_FAST_BENCHMARK on %s: %w", Path, errno)
		}
		r.GetMicros += t.getDeltaUsec
		r.Calls += 2
	}
	return r, nil
}

// buffer maps an anonymous buffer of size bytes, on a huge page when huge
// (the mapping over-allocated to put the buffer on a 2 MiB boundary), and
// returns it with the function that unmaps it.
func buffer(size int, huge bool) ([]byte, func(), error) {
	const hugePage = 2 << 20
	n := size
	if huge {
		n = (size+hugePage-1)/hugePage*hugePage + hugePage
	}
	m, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap %d bytes: %w", n, err)
	}
	release := func() { unix.Munmap(m) }
	if !huge {
		return m[:size], release, nil
	}
	off := int((hugePage - uintptr(unsafe.Pointer(&m[0]))%hugePage) % hugePage)
	b := m[off : off+size]
	if err := unix.Madvise(m[off:off+(size+hugePage-1)/hugePage*hugePage], unix.MADV_HUGEPAGE); err != nil {
		release()
		return nil, nil, fmt.Errorf("madvise MADV_HUGEPAGE: %w", err)
	}
	return b, release, nil
}

// configPath is the running kernel's build configuration
// (CONFIG_IKCONFIG_PROC).
const configPath = "/proc/config.gz"

// configValue returns the value of option name in the gzip-compressed
// kernel config at path: "y", "m", a string, or "n" for "# NAME is not
// set". ok is false when the file cannot be read or does not mention it.
func configValue(path, name string) (value string, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return "", false
	}
	return parseConfig(gz, name)
}

// parseConfig finds option name in a kernel .config read from r.
func parseConfig(r io.Reader, name string) (value string, ok bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "# "+name+" is not set" {
			return "n", true
		}
		if v, found := strings.CutPrefix(line, name+"="); found {
			return v, true
		}
	}
	return "", false
}

// configLine spells an option as .config does.
func configLine(name, value string) string {
	if value == "n" {
		return "# " + name + " is not set"
	}
	return name + "=" + value
}
