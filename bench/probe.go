package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	pipeMaxSizePath = "/proc/sys/fs/pipe-max-size"
	hugePageBytes   = 2 << 20
	// kpfTHP is KPF_THP of <linux/kernel-page-flags.h>: the page is part of
	// a transparent huge page.
	kpfTHP = 22
	// pagemapPresent is bit 63 of a /proc/PID/pagemap entry; bits 0-54
	// hold the page frame number (zero unless CAP_SYS_ADMIN).
	pagemapPresent = 1 << 63
	pagemapPFNMask = 1<<55 - 1
)

var pageSize = os.Getpagesize()

// thpEnabledPath holds the THP mode; a variable so tests can point it at a
// fixture.
var thpEnabledPath = "/sys/kernel/mm/transparent_hugepage/enabled"

// THPMode returns the transparent huge page mode, the bracketed word of
// /sys/kernel/mm/transparent_hugepage/enabled: "always", "madvise" or
// "never".
func THPMode() (string, error) {
	b, err := os.ReadFile(thpEnabledPath)
	if err != nil {
		return "", fmt.Errorf("read thp mode: %w (transparent huge pages need CONFIG_TRANSPARENT_HUGEPAGE)", err)
	}
	return parseTHPMode(string(b))
}

// parseTHPMode picks the bracketed word of "always [madvise] never".
func parseTHPMode(s string) (string, error) {
	for _, w := range strings.Fields(s) {
		if len(w) > 2 && w[0] == '[' && w[len(w)-1] == ']' {
			return w[1 : len(w)-1], nil
		}
	}
	return "", fmt.Errorf("parse %s: no [selected] mode in %q", thpEnabledPath, strings.TrimSpace(s))
}

// PipeMaxSize returns /proc/sys/fs/pipe-max-size in bytes, the largest
// F_SETPIPE_SZ an unprivileged process may ask for.
func PipeMaxSize() (int, error) {
	b, err := os.ReadFile(pipeMaxSizePath)
	if err != nil {
		return 0, fmt.Errorf("read pipe-max-size: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", pipeMaxSizePath, err)
	}
	return n, nil
}

// AllowedCPUs returns the CPUs this process may run on (sched_getaffinity),
// in increasing order: the CPUs --pin can name.
func AllowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	return cpuList(&set), nil
}

func cpuList(set *unix.CPUSet) []int {
	var cpus []int
	for c := 0; c < len(set)*64; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

// ProbeHugePage maps a 2MiB-aligned buffer, madvises it MADV_HUGEPAGE,
// touches it and proves through /proc/self/pagemap and /proc/kpageflags
// that it is backed by a transparent huge page. It returns nil only if it
// is.
func ProbeHugePage() error {
	buf, err := hugeBuffer(hugePageBytes, 0)
	if err != nil {
		return err
	}
	defer unix.Munmap(buf.mapping)
	for i := range buf.data {
		buf.data[i] = 'X'
	}
	return checkHuge(buf.data)
}

// buffer is an anonymous mapping and the aligned part of it in use.
type buffer struct {
	mapping []byte // what mmap returned, for munmap
	data    []byte
}

// pageBuffer maps size bytes of anonymous memory starting offset bytes
// past a page boundary (0 <= offset < pageSize).
func pageBuffer(size, offset int) (buffer, error) {
	span := size
	if offset > 0 {
		span += pageSize
	}
	m, err := unix.Mmap(-1, 0, span, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return buffer{}, fmt.Errorf("mmap %s: %w", FormatSize(int64(span)), err)
	}
	return buffer{mapping: m, data: m[offset : offset+size]}, nil
}

// hugeBuffer maps size bytes starting offset bytes past a 2MiB boundary,
// madvised MADV_HUGEPAGE over whole huge pages.
func hugeBuffer(size, offset int) (buffer, error) {
	span := (offset + size + hugePageBytes - 1) / hugePageBytes * hugePageBytes
	m, err := unix.Mmap(-1, 0, span+hugePageBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return buffer{}, fmt.Errorf("mmap %s: %w", FormatSize(int64(span+hugePageBytes)), err)
	}
	off := 0
	if r := int(addrOf(m) % hugePageBytes); r != 0 {
		off = hugePageBytes - r
	}
	aligned := m[off : off+span]
	if err := unix.Madvise(aligned, unix.MADV_HUGEPAGE); err != nil {
		unix.Munmap(m)
		return buffer{}, fmt.Errorf("madvise MADV_HUGEPAGE: %w (transparent huge pages must be madvise or always)", err)
	}
	return buffer{mapping: m, data: aligned[offset : offset+size]}, nil
}

// checkHuge fails unless every page of b is present and part of a
// transparent huge page, per /proc/self/pagemap and /proc/kpageflags.
func checkHuge(b []byte) error {
	pm, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return fmt.Errorf("check huge page: %w", err)
	}
	defer pm.Close()
	kf, err := os.Open("/proc/kpageflags")
	if err != nil {
		return fmt.Errorf("check huge page: %w (needs root)", err)
	}
	defer kf.Close()
	base := addrOf(b)
	for off := 0; off < len(b); off += pageSize {
		if err := checkHugePage(pm, kf, base+uintptr(off)); err != nil {
			return fmt.Errorf("check huge page at buffer offset %d: %w", off, err)
		}
	}
	return nil
}

// checkHugePage looks one virtual page up in pagemap, then its frame in
// kpageflags.
func checkHugePage(pm, kf *os.File, addr uintptr) error {
	entry, err := readUint64(pm, int64(addr)/int64(pageSize)*8)
	if err != nil {
		return fmt.Errorf("read pagemap: %w", err)
	}
	if entry&pagemapPresent == 0 {
		return fmt.Errorf("page not present (it was never touched)")
	}
	pfn := entry & pagemapPFNMask
	if pfn == 0 {
		return fmt.Errorf("pagemap hides page frame numbers (needs CAP_SYS_ADMIN)")
	}
	flags, err := readUint64(kf, int64(pfn)*8)
	if err != nil {
		return fmt.Errorf("read kpageflags: %w", err)
	}
	if flags&(1<<kpfTHP) == 0 {
		return fmt.Errorf("not a transparent huge page (kpageflags %#x; is THP enabled and memory unfragmented? see /sys/kernel/mm/transparent_hugepage)", flags)
	}
	return nil
}

func readUint64(f *os.File, off int64) (uint64, error) {
	var b [8]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// UnsupportedError says that this machine or kernel lacks what a mode
// needs, whatever the options: Supported returns it, and a ladder leaves
// the step out and runs the others.
type UnsupportedError struct {
	// Needs names what is missing, "transparent huge pages"; Why says
	// how, "which are off: ... is never"; Remedy what to do.
	Needs, Why, Remedy string
}

// Error renders "needs transparent huge pages, which are off: PATH is
// never (echo madvise > PATH)".
func (e *UnsupportedError) Error() string {
	s := "needs " + e.Needs + ", " + e.Why
	if e.Remedy != "" {
		s += " (" + e.Remedy + ")"
	}
	return s
}

// Supported says whether this machine can run o's strategy at all: nil,
// or an *UnsupportedError naming what it lacks (transparent huge pages,
// for a plan with huge-page buffers; the memory for copy-dram's source).
// Validate refuses such options too, naming the option at fault.
func Supported(o Options) error {
	p := planFor(o)
	if p.Dram {
		return dramSupported()
	}
	if !p.Huge {
		return nil
	}
	mode, err := THPMode()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &UnsupportedError{"transparent huge pages", "which this kernel lacks (no " + thpEnabledPath + ")", "a kernel built with CONFIG_TRANSPARENT_HUGEPAGE=y"}
	case err != nil:
		return &UnsupportedError{"transparent huge pages", "whose mode cannot be read: " + err.Error(), ""}
	case mode == "never":
		return &UnsupportedError{"transparent huge pages", "which are off: " + thpEnabledPath + " is never", "echo madvise > " + thpEnabledPath}
	}
	return nil
}
