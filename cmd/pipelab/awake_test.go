package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/result"
)

// dmaLatencyUS reads the kernel's aggregate PM QoS request, in µs.
func dmaLatencyUS(t *testing.T) int32 {
	t.Helper()
	b, err := os.ReadFile("/dev/cpu_dma_latency")
	if err != nil || len(b) < 4 {
		t.Fatalf("read /dev/cpu_dma_latency: %v", err)
	}
	return int32(binary.NativeEndian.Uint32(b))
}

// mustKeepAwake skips unless --keep-cpus-awake can work here.
func mustKeepAwake(t *testing.T) {
	t.Helper()
	if err := bench.ProbeCPUsAwake(); err != nil {
		t.Skipf("--keep-cpus-awake unavailable: %v", err)
	}
	if dmaLatencyUS(t) == 0 {
		t.Skip("another process holds /dev/cpu_dma_latency at 0µs")
	}
}

// TestKeepCPUsAwake runs with --keep-cpus-awake: the JSON says it was on,
// and the request is gone once pipelab has exited, whether it finished,
// was interrupted or was killed.
func TestKeepCPUsAwake(t *testing.T) {
	mustKeepAwake(t)
	stdout, stderr, code := pipelab(t, t.TempDir(), "run", "--mode", "vmsplice", "--bytes", "16MiB", "--repeat", "1", "--keep-cpus-awake", "--json")
	var s result.Step
	if code != 0 || json.Unmarshal([]byte(stdout), &s) != nil || !s.KeepCPUsAwake {
		t.Fatalf("exit %d, keep_cpus_awake %v; stdout %q stderr %q", code, s.KeepCPUsAwake, stdout, stderr)
	}
	if !strings.Contains(stderr, "--keep-cpus-awake: every CPU is kept out of idle states") {
		t.Errorf("stderr does not say the CPUs were kept awake: %q", stderr)
	}
	if got := dmaLatencyUS(t); got == 0 {
		t.Errorf("after the run: /dev/cpu_dma_latency reads 0µs, want the request dropped")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := pipelabCmd(t, t.TempDir(), "run", "--mode", "write", "--bytes", "1TiB", "--keep-cpus-awake")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			held := false
			for i := 0; i < 100 && !held; i++ {
				time.Sleep(20 * time.Millisecond)
				held = dmaLatencyUS(t) == 0
			}
			cmd.Process.Signal(sig)
			cmd.Wait()
			if !held {
				t.Fatal("the request was never held during the run")
			}
			if got := dmaLatencyUS(t); got == 0 {
				t.Errorf("after %v: /dev/cpu_dma_latency reads 0µs, want the request dropped", sig)
			}
		})
	}
}

// TestKeepCPUsAwakeUnprivileged wants one line and exit status 2 where
// the request cannot be made, here as a user who may not open the file.
// On a machine with no CPU idle driver the request cannot work for
// anyone, and that is the line, whoever asks.
func TestKeepCPUsAwakeUnprivileged(t *testing.T) {
	_, out, err := asNobody(t, "run", "--mode", "write", "--keep-cpus-awake")
	var ee *exec.ExitError
	want := "pipelab: --keep-cpus-awake: open /dev/cpu_dma_latency: permission denied (needs root)\n"
	if b, _ := os.ReadFile("/sys/devices/system/cpu/cpuidle/current_driver"); strings.TrimSpace(string(b)) == "none" || len(b) == 0 {
		want = "pipelab: --keep-cpus-awake: no CPU idle driver (/sys/devices/system/cpu/cpuidle/current_driver), so a PM QoS request cannot keep the CPUs out of idle (boot with idle=poll to have them poll)\n"
	}
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || string(out) != want {
		t.Errorf("got %v, %q; want exit status 2 and %q", err, out, want)
	}
}
