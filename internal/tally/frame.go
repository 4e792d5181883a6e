package tally

import (
	"fmt"
	"strings"

	pprof "github.com/google/pprof/profile"
)

// kernelMapping is the mapping name pipelab (and perf) give kernel frames.
const kernelMapping = "[kernel.kallsyms]"

// kernelStart is the lowest kernel address on x86-64 and arm64 (the upper
// canonical half).
const kernelStart = 0xffff800000000000

// IsKernel reports whether loc is a kernel frame: its mapping is named
// like the kernel ("[kernel.kallsyms]", "[kernel...", "[vmlinux]", a
// vmlinux file), or, with no such mapping, its address lies in the kernel
// half of the address space. This makes profiles from other tools work
// when their kernel mapping has another name.
func IsKernel(loc *pprof.Location) bool {
	if m := loc.Mapping; m != nil && m.File != "" {
		f := m.File
		if f == kernelMapping || strings.HasPrefix(f, "[kernel") || strings.HasPrefix(f, "[vmlinux") || strings.HasSuffix(f, "vmlinux") {
			return true
		}
		if !strings.HasPrefix(f, "[") {
			return false // a user file: an ELF path
		}
	}
	return loc.Address >= kernelStart
}

// KernelName returns the name a kernel symbol is matched by: without the
// "__pfx_" padding prefix, without compiler suffixes (".constprop.0",
// ".isra.0", ".part.0", ".cold", ...: C identifiers never contain a dot)
// and without a trailing " [module]".
func KernelName(name string) string {
	name, _, _ = strings.Cut(name, " ")
	name = strings.TrimPrefix(name, "__pfx_")
	name, _, _ = strings.Cut(name, ".")
	return name
}

// Frame is one function of a stack, leaf first.
type Frame struct {
	Name   string // as the profile spells it
	Key    string // kernelName(name) for kernel frames, else name
	Kernel bool
}

// Frames returns the functions of s, leaf first, inlined Frames included.
// A location without functions becomes its address.
func Frames(s *pprof.Sample) []Frame {
	var out []Frame
	for _, loc := range s.Location {
		k := IsKernel(loc)
		if len(loc.Line) == 0 {
			name := fmt.Sprintf("%#x", loc.Address)
			out = append(out, Frame{Name: name, Key: name, Kernel: k})
			continue
		}
		for _, ln := range loc.Line {
			var name string
			if fn := ln.Function; fn != nil {
				name = fn.Name
				if name == "" {
					name = fn.SystemName
				}
			}
			if name == "" {
				name = fmt.Sprintf("%#x", loc.Address)
			}
			key := name
			if k {
				key = KernelName(name)
			}
			out = append(out, Frame{Name: name, Key: key, Kernel: k})
		}
	}
	return out
}

// HasKernelFrames reports whether any sample of p has a kernel frame.
func HasKernelFrames(p *pprof.Profile) bool {
	for _, loc := range p.Location {
		if IsKernel(loc) {
			return true
		}
	}
	return false
}
