package emulation

import "encoding/binary"

// cpuid executes CPUID with EAX=leaf, ECX=sub (cpuid_amd64.s).
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func detect() CPU {
	_, _, ecx, _ := cpuid(1, 0)
	_, b, c, d := cpuid(0x40000000, 0)
	var sig [12]byte
	binary.LittleEndian.PutUint32(sig[0:], b)
	binary.LittleEndian.PutUint32(sig[4:], c)
	binary.LittleEndian.PutUint32(sig[8:], d)
	return FromHypervisorSignature(ecx&(1<<31) != 0, string(sig[:]))
}
