package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Keeping the CPUs awake. A blocking mode's sleeping side is woken on an
// idle CPU, and what that costs depends on the idle state the CPU is in:
// in a guest whose idle driver halts at once (haltpoll with
// guest_halt_poll_ns=0) every wake-up goes through the hypervisor. The
// experiment Options.KeepCPUsAwake asks the kernel, for as long as Run
// runs transfers, to use no idle state with an exit latency above 0µs,
// which leaves every CPU (the pinned ones among them) polling when idle.
//
// The request is the PM QoS file /dev/cpu_dma_latency: writing a 32-bit
// latency in µs to it sets the request, which the kernel keeps for as long
// as the file stays open and drops when it is closed, also when the
// process dies of SIGKILL. Nothing is left to restore, which is why
// pipelab uses it rather than the per-CPU
// /sys/devices/system/cpu/cpuN/power/pm_qos_resume_latency_us, a value a
// killed pipelab would leave behind. It covers every CPU, not the pinned
// ones only.

// cpuDMALatency is the PM QoS request file, and cpuidleDriver the file
// that names the CPU idle driver which honours it; variables for tests.
var (
	cpuDMALatency = "/dev/cpu_dma_latency"
	cpuidleDriver = "/sys/devices/system/cpu/cpuidle/current_driver"
)

// holdCPUsAwake sets a PM QoS request for 0µs of idle exit latency and
// returns the function that drops it. It fails, changing nothing, when
// no cpuidle driver would honour the request or the request file cannot
// be opened.
func holdCPUsAwake() (release func() error, err error) {
	b, err := os.ReadFile(cpuidleDriver)
	driver := strings.TrimSpace(string(b))
	if err != nil || driver == "" || driver == "none" {
		return nil, errors.New("no CPU idle driver (" + cpuidleDriver + "), so a PM QoS request cannot keep the CPUs out of idle (boot with idle=poll to have them poll)")
	}
	f, err := os.OpenFile(cpuDMALatency, os.O_RDWR, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("open %s: %w (needs root)", cpuDMALatency, err)
		}
		return nil, fmt.Errorf("open %s: %w", cpuDMALatency, err)
	}
	if _, err := f.Write(binary.NativeEndian.AppendUint32(nil, 0)); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", cpuDMALatency, err)
	}
	return f.Close, nil
}

// ProbeCPUsAwake sets and at once drops the request of holdCPUsAwake: nil
// when Options.KeepCPUsAwake can work here, else why not.
func ProbeCPUsAwake() error {
	release, err := holdCPUsAwake()
	if err != nil {
		return err
	}
	return release()
}
