package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// machine writes a sysfs CPU directory whose cpu0 has caches of the
// given levels and sizes ("L3 32M"), and a /proc/meminfo with
// MemAvailable availKiB; it points the copy-dram sizing at them.
func machine(t *testing.T, availKiB int64, caches ...[2]string) {
	t.Helper()
	dir := t.TempDir()
	for i, c := range caches {
		idx := filepath.Join(dir, "cpu0", "cache", fmt.Sprintf("index%d", i))
		if err := os.MkdirAll(idx, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]string{"level": c[0], "size": c[1]} {
			if err := os.WriteFile(filepath.Join(idx, name), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	mem := filepath.Join(dir, "meminfo")
	content := fmt.Sprintf("MemTotal:       24576000 kB\nMemFree:        1000 kB\nMemAvailable:   %d kB\n", availKiB)
	if err := os.WriteFile(mem, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(MachineAt(dir, mem))
}

// TestDramSize sizes copy-dram's source for machines with and without
// caches in sysfs, and with plenty and little memory: four times the
// largest cache and at least 256MiB; 1GiB where the caches are unknown,
// or half of what is available down to 256MiB; refused, with the figures,
// below that. A 1GiB QEMU guest (about 700MiB available) gets a source it
// can hold.
func TestDramSize(t *testing.T) {
	const gib = 1 << 20 // KiB
	for _, tt := range []struct {
		name     string
		availKiB int64
		caches   [][2]string
		want     int
		err      string
	}{
		{"big L3", 24 * gib, [][2]string{{"1", "32K"}, {"2", "1024K"}, {"3", "96M"}}, 384 << 20, ""},
		{"small L3", 24 * gib, [][2]string{{"1", "48K"}, {"3", "16M"}}, 256 << 20, ""},
		{"no caches", 24 * gib, nil, 1 << 30, ""},
		{"no caches, 1GiB guest", 700 << 10, nil, 350 << 20, ""},
		{"no caches, 400MiB free", 400 << 10, nil, 0,
			"needs twice its source in available memory, a source of 256MiB, and MEMINFO has MemAvailable 400MiB (free memory, or run it on a machine with more)"},
		{"big L3, 600MiB free", 600 << 10, [][2]string{{"3", "96M"}}, 0,
			"needs twice its source in available memory, a source of 384MiB (4 times the L3 cache of 96MiB), and MEMINFO has MemAvailable 600MiB (free memory, or run it on a machine with more)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			machine(t, tt.availKiB, tt.caches...)
			got, err := dramBytes()
			if tt.err == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %d, %v; want %d", got, err, tt.want)
				}
				if err := Supported(Options{Mode: "copy-dram", BufSizeBytes: 256 << 10}); err != nil {
					t.Errorf("Supported: %v", err)
				}
				return
			}
			want := strings.ReplaceAll(tt.err, "MEMINFO", meminfo)
			var ue *UnsupportedError
			if !errors.As(err, &ue) || err.Error() != want {
				t.Fatalf("got %d, %v; want %q", got, err, want)
			}
			o := DefaultOptions()
			o.Mode = "copy-dram"
			if err := Supported(o); err == nil || err.Error() != want {
				t.Errorf("Supported: %v, want %q", err, want)
			}
			var oe *OptionError
			if err := o.Validate(); !errors.As(err, &oe) || oe.Value != "copy-dram" {
				t.Errorf("Validate: %v, want copy-dram refused", err)
			}
			o.Mode = "copy"
			if err := Supported(o); err != nil {
				t.Errorf("copy, whose source is one buffer: %v", err)
			}
		})
	}
}

// TestDramSourceSpared runs copy-dram on a machine that can spare less
// than the source it would like (no caches listed, 700MiB available):
// the runner sizes the memfd to what is spared, the children take that
// size, and the reader wraps around it, getting exactly the writer's
// bytes.
func TestDramSourceSpared(t *testing.T) {
	machine(t, 700<<10)
	o := one("copy-dram")
	o.Bytes = 350<<20 + 1<<20 + 12345 // past the 350MiB source
	o.Verify, o.Consume = true, true
	r := runOne(t, o)
	if !r.Verified || r.FirstCorruptOffset != -1 {
		t.Errorf("Verified %v, first corrupt offset %d; want true, -1", r.Verified, r.FirstCorruptOffset)
	}
	if want := wantChecksum(o); r.Reader.Checksum != want {
		t.Errorf("reader checksum %#x, want %#x (the pattern's over %d bytes, repeating every 350MiB)", r.Reader.Checksum, want, o.Bytes)
	}
}
