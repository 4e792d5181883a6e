package bench

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHoldCPUsAwakeUnavailable wants a clear reason, and nothing held,
// where no idle driver honours the request or the file cannot be opened.
func TestHoldCPUsAwakeUnavailable(t *testing.T) {
	dir := t.TempDir()
	none := filepath.Join(dir, "driver")
	if err := os.WriteFile(none, []byte("none\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer func(d, l string) { cpuidleDriver, cpuDMALatency = d, l }(cpuidleDriver, cpuDMALatency)
	cpuidleDriver = none
	if _, err := holdCPUsAwake(); err == nil || !strings.Contains(err.Error(), "no CPU idle driver") {
		t.Errorf("driver none: got %v, want no CPU idle driver", err)
	}
	if err := os.WriteFile(none, []byte("haltpoll\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cpuDMALatency = filepath.Join(dir, "nope")
	if _, err := holdCPUsAwake(); err == nil || err.Error() != "open "+cpuDMALatency+": no such file or directory" {
		t.Errorf("missing file: got %v", err)
	}
}

// TestHoldCPUsAwake holds the real request and reads the kernel's
// aggregate back: 0µs while held, something else once dropped.
func TestHoldCPUsAwake(t *testing.T) {
	release, err := holdCPUsAwake()
	if err != nil {
		t.Skipf("keep CPUs awake: %v", err)
	}
	if got := dmaLatency(t); got != 0 {
		t.Errorf("while held: /dev/cpu_dma_latency reads %d µs, want 0", got)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if got := dmaLatency(t); got == 0 {
		t.Skip("after release: still 0 µs; another process holds a request")
	}
}

func dmaLatency(t *testing.T) int32 {
	b, err := os.ReadFile(cpuDMALatency)
	if err != nil || len(b) < 4 {
		t.Fatalf("read %s: %v (%d bytes)", cpuDMALatency, err, len(b))
	}
	return int32(binary.NativeEndian.Uint32(b))
}
