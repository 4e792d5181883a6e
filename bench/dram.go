package bench

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// copy-dram's source must be larger than any cache the reader's CPU can
// hold it in, and no larger than the machine can spare: a fixed 1GiB
// killed the reader with SIGKILL (the OOM killer) in a 1GiB QEMU guest,
// and took longer than the ready timeout to lay out under emulation.
// Where sysfs lists the caches, the source is dramCacheFactor times the
// largest, and at least dramMinBytes; where it lists none (emulated arm64
// machines, some VMs), it is dramUnknownBytes, or as much as the machine
// can spare down to dramMinBytes. Twice the source must be available: the
// memfd lives in shared memory, which the kernel cannot write out but to
// swap.
const (
	dramCacheFactor  = 4
	dramMinBytes     = 256 << 20
	dramUnknownBytes = 1 << 30
)

// Where the sizing looks; variables so that tests can give it a machine.
var (
	cacheDir = "/sys/devices/system/cpu"
	meminfo  = "/proc/meminfo"
)

// largestCache is the size of the largest cache of any CPU sysfs lists,
// and its level ("L3"); 0 when sysfs lists none.
func largestCache() (int64, string) {
	sizes, _ := filepath.Glob(filepath.Join(cacheDir, "cpu[0-9]*", "cache", "index[0-9]*", "size"))
	var best int64
	var level string
	for _, path := range sizes {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		n, err := parseCacheSize(strings.TrimSpace(string(b)))
		if err != nil || n <= best {
			continue
		}
		best, level = n, ""
		if l, err := os.ReadFile(filepath.Join(filepath.Dir(path), "level")); err == nil {
			level = "L" + strings.TrimSpace(string(l))
		}
	}
	return best, level
}

// parseCacheSize reads sysfs's cache sizes: "32K", "1024K", "32M".
func parseCacheSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("cache size %q", s)
	}
	return n * mult, nil
}

// dramBytes is the size of copy-dram's source on this machine (before
// rounding up to whole buffers), or an *UnsupportedError when the machine
// cannot spare it. The runner sizes the memfd with it; the children take
// the memfd's size.
func dramBytes() (int, error) {
	c, level := largestCache()
	want := int64(dramUnknownBytes)
	if c > 0 {
		want = max(dramCacheFactor*c, dramMinBytes)
	}
	avail, err := memAvailable()
	if err != nil || 2*want <= avail {
		return int(want), nil // no MemAvailable (before Linux 3.14): try
	}
	if c == 0 && avail/2 >= dramMinBytes {
		return int(avail / 2 &^ (1<<20 - 1)), nil
	}
	why := "a source of " + FormatSize(dramMinBytes) // the least it would take
	if c > 0 {
		why = fmt.Sprintf("a source of %s (%d times the %s cache of %s)", FormatSize(want), dramCacheFactor, level, FormatSize(c))
	}
	return 0, &UnsupportedError{
		Needs:  "twice its source in available memory",
		Why:    why + ", and " + meminfo + " has MemAvailable " + FormatSize(avail),
		Remedy: "free memory, or run it on a machine with more",
	}
}

// memAvailable is /proc/meminfo's MemAvailable in bytes.
func memAvailable() (int64, error) {
	f, err := os.Open(meminfo)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s: %q", meminfo, sc.Text())
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no MemAvailable in %s", meminfo)
}

// dramSupported says whether this machine can spare copy-dram's source.
func dramSupported() error {
	_, err := dramBytes()
	return err
}
