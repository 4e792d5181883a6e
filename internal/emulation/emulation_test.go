package emulation

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestFromHypervisorSignature judges the signatures of CPUID leaf
// 0x40000000 that x86 guests show: QEMU TCG's (read in an amd64 TCG
// guest of Debian's 6.1 and 6.12 kernels), KVM's and Hyper-V's, and the
// one this project's PVM machines show ("bhyve bhyve ", read there).
func TestFromHypervisorSignature(t *testing.T) {
	for _, tt := range []struct {
		hypervisor bool
		sig        string
		emulator   string
		evidence   string
	}{
		{true, "TCGTCGTCGTCG", "QEMU TCG", `CPUID 0x40000000 signature "TCGTCGTCGTCG"`},
		{true, "KVMKVMKVM\x00\x00\x00", "", `CPUID 0x40000000 signature "KVMKVMKVM": a hypervisor's, not an emulator's`},
		{true, "Microsoft Hv", "", `CPUID 0x40000000 signature "Microsoft Hv": a hypervisor's, not an emulator's`},
		{true, "bhyve bhyve ", "", `CPUID 0x40000000 signature "bhyve bhyve ": a hypervisor's, not an emulator's`},
		{false, "TCGTCGTCGTCG", "", "CPUID.1 hypervisor bit clear: not a guest"},
	} {
		got := FromHypervisorSignature(tt.hypervisor, tt.sig)
		if got.Emulator != tt.emulator || got.Evidence != tt.evidence || got.Emulated() != (tt.emulator != "") {
			t.Errorf("%q (hypervisor %v): got %+v, want emulator %q evidence %q", tt.sig, tt.hypervisor, got, tt.emulator, tt.evidence)
		}
	}
}

// TestFromCPUInfo judges arm64 /proc/cpuinfo: QEMU TCG's -cpu max
// (testdata, read in a TCG guest of Debian's 6.12 arm64 kernel), a
// Neoverse N1 (what a KVM guest on one shows, whatever -cpu asks), and
// text that is not an arm64 cpuinfo.
func TestFromCPUInfo(t *testing.T) {
	b, err := os.ReadFile("testdata/cpuinfo-arm64-qemu-tcg-max")
	if err != nil {
		t.Fatal(err)
	}
	n1 := "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs\n" +
		"CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n"
	for _, tt := range []struct {
		name, in, emulator, evidence, err string
	}{
		{"qemu tcg -cpu max", string(b), "QEMU TCG", "MIDR implementer 0x00 part 0x051 (QEMU's -cpu max)", ""},
		{"neoverse n1", n1, "", "MIDR implementer 0x41 part 0xd0c: a hardware implementer's", ""},
		{"software implementer", strings.Replace(n1, "0x41", "0x00", 1), "MIDR implementer 0x00", "MIDR implementer 0x00 part 0xd0c (implementer 0x00 is reserved for software)", ""},
		{"x86 cpuinfo", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n", "", "", "read cpuinfo: no CPU implementer and CPU part lines (not an arm64 cpuinfo)"},
		{"bad part", strings.Replace(n1, "0xd0c", "0xzz", 1), "", "", `read cpuinfo: CPU part "0xzz": strconv.ParseInt: parsing "0xzz": invalid syntax`},
	} {
		got, err := FromCPUInfo(strings.NewReader(tt.in))
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: got error %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || got.Emulator != tt.emulator || got.Evidence != tt.evidence {
			t.Errorf("%s: got %+v, %v; want emulator %q evidence %q", tt.name, got, err, tt.emulator, tt.evidence)
		}
	}
}

// TestDetectHere runs the detection on this machine and wants it to say
// what it checked. Whether the answer is right is e2e's TestEmulation,
// which knows, in the matrix's guests, whether QEMU emulates the CPU.
func TestDetectHere(t *testing.T) {
	c := Detect()
	t.Logf("%s: emulator %q, %s", runtime.GOARCH, c.Emulator, c.Evidence)
	if c.Evidence == "" {
		t.Error("no evidence given")
	}
}
