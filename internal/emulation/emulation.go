// Package emulation tells whether pipelab runs on an emulated CPU, one
// whose every instruction an emulator translates (QEMU's TCG), as opposed
// to real hardware or a hardware-virtualized guest (KVM, PVM, Firecracker):
// timings taken there are not the hardware's, so results must say so.
//
// On x86-64 it reads the hypervisor CPUID leaf 0x40000000, whose
// signature QEMU's TCG sets to "TCGTCGTCGTCG" (KVM's is "KVMKVMKVM",
// Hyper-V's "Microsoft Hv"). On arm64 it reads the CPU's MIDR from
// /proc/cpuinfo: QEMU's TCG "-cpu max" reports implementer 0x00, which Arm
// reserves for software use, and part 0x051, while KVM shows the host's
// real MIDR whatever -cpu says. A TCG guest given a named CPU model
// (-cpu cortex-a72) shows that model's MIDR and is not detected.
package emulation

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CPU is what Detect found.
type CPU struct {
	// Emulator names the emulator, "QEMU TCG"; empty on real or
	// hardware-virtualized CPUs.
	Emulator string
	// Evidence is what told, e.g. `CPUID 0x40000000 signature
	// "TCGTCGTCGTCG"`; for a CPU that is not emulated, what was checked.
	Evidence string
}

// Emulated reports whether the CPU is emulated.
func (c CPU) Emulated() bool { return c.Emulator != "" }

// Detect examines the CPU pipelab runs on.
func Detect() CPU { return detect() }

// qemuTCG is the name results give QEMU's emulation.
const qemuTCG = "QEMU TCG"

// FromHypervisorSignature judges an x86 CPU by the 12-byte vendor
// signature of CPUID leaf 0x40000000 (EBX, ECX, EDX); hypervisor is
// CPUID.1:ECX bit 31, without which the leaf means nothing.
func FromHypervisorSignature(hypervisor bool, sig string) CPU {
	if !hypervisor {
		return CPU{Evidence: "CPUID.1 hypervisor bit clear: not a guest"}
	}
	if sig == "TCGTCGTCGTCG" {
		return CPU{Emulator: qemuTCG, Evidence: fmt.Sprintf("CPUID 0x40000000 signature %q", sig)}
	}
	return CPU{Evidence: fmt.Sprintf("CPUID 0x40000000 signature %q: a hypervisor's, not an emulator's", strings.TrimRight(sig, "\x00"))}
}

// FromCPUInfo judges an arm64 CPU by the MIDR fields of the first
// processor in r, a /proc/cpuinfo.
func FromCPUInfo(r io.Reader) (CPU, error) {
	implementer, part := -1, -1
	sc := bufio.NewScanner(r)
	for sc.Scan() && (implementer < 0 || part < 0) {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 0, 32)
		switch strings.TrimSpace(k) {
		case "CPU implementer":
			if err != nil {
				return CPU{}, fmt.Errorf("read cpuinfo: CPU implementer %q: %w", strings.TrimSpace(v), err)
			}
			implementer = int(n)
		case "CPU part":
			if err != nil {
				return CPU{}, fmt.Errorf("read cpuinfo: CPU part %q: %w", strings.TrimSpace(v), err)
			}
			part = int(n)
		}
	}
	if err := sc.Err(); err != nil {
		return CPU{}, fmt.Errorf("read cpuinfo: %w", err)
	}
	if implementer < 0 || part < 0 {
		return CPU{}, fmt.Errorf("read cpuinfo: no CPU implementer and CPU part lines (not an arm64 cpuinfo)")
	}
	midr := fmt.Sprintf("MIDR implementer %#02x part %#03x", implementer, part)
	switch {
	case implementer == 0 && part == 0x051:
		return CPU{Emulator: qemuTCG, Evidence: midr + " (QEMU's -cpu max)"}, nil
	case implementer == 0:
		return CPU{Emulator: "MIDR implementer 0x00", Evidence: midr + " (implementer 0x00 is reserved for software)"}, nil
	}
	return CPU{Evidence: midr + ": a hardware implementer's"}, nil
}
