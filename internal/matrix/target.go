// Package matrix boots Debian's kernels under QEMU with a static pipelab
// and pipelab's end-to-end checks (package e2e) in an initramfs, reads
// what the guest prints on its serial console, and renders the table of
// kernel × architecture × check that `make matrix` writes to
// docs/matrix.md.
//
// The guest's only way out is its console: the init script frames the
// test binary's -test.v output and a base64 tar of the checks' files
// (doctor.json, symbols.json, the ladder folder) between marker lines, and
// Parse reads them back. A kernel that does not boot, hangs or panics is a
// row of the table with its console's tail, never a hung run.
package matrix

import (
	"fmt"
	"strings"
)

// Arch is a guest architecture: Debian's and Go's name for it and how
// QEMU emulates it.
type Arch struct {
	// Name is the Debian architecture and GOARCH, e.g. "arm64".
	Name string
	// QEMU is the emulator's binary and Package the Debian package that
	// ships it.
	QEMU, Package string
	// Console is the serial console's device in the guest.
	Console string
	// Machine are the machine and CPU arguments under TCG.
	Machine []string
	// TCG is the -accel value under emulation.
	TCG string
}

// arches are the architectures the matrix knows. amd64 runs single
// threaded TCG: the 6.12 kernel oopsed once under multi-threaded TCG (an
// int3 in __schedule while static keys were being patched).
var arches = []Arch{
	{Name: "amd64", QEMU: "qemu-system-x86_64", Package: "qemu-system-x86", Console: "ttyS0",
		Machine: []string{"-M", "pc", "-cpu", "max"}, TCG: "tcg,thread=single"},
	{Name: "arm64", QEMU: "qemu-system-aarch64", Package: "qemu-system-arm", Console: "ttyAMA0",
		Machine: []string{"-M", "virt", "-cpu", "max"}, TCG: "tcg"},
}

// series are the kernel series the matrix knows: Debian's cloud kernels
// of the LTS series it serves.
var series = []string{"6.1", "6.12"}

// Target is one guest of the matrix: a kernel series on an architecture.
type Target struct {
	Series string
	Arch   Arch
}

// String is the target's name, e.g. "6.12-arm64"; its folder under the
// matrix's output has the same name.
func (t Target) String() string { return t.Series + "-" + t.Arch.Name }

// UnknownError is a kernel series or architecture the matrix does not know.
type UnknownError struct {
	// Field is "Series" or "Arch"; What says it in words.
	Field, What string
	Value       string
	Known       []string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("%s: unknown %s (known: %s)", e.Value, e.What, strings.Join(e.Known, ", "))
}

// KnownSeries lists the kernel series the matrix knows.
func KnownSeries() []string { return append([]string(nil), series...) }

// KnownArches lists the architectures the matrix knows.
func KnownArches() []string {
	names := make([]string, len(arches))
	for i, a := range arches {
		names[i] = a.Name
	}
	return names
}

// LookupArch returns the architecture named name.
func LookupArch(name string) (Arch, bool) {
	for _, a := range arches {
		if a.Name == name {
			return a, true
		}
	}
	return Arch{}, false
}

// Targets returns every series of seriesList (comma separated) on every
// architecture of archList, series by series; an empty list means all
// the matrix knows.
func Targets(seriesList, archList string) ([]Target, error) {
	ss, err := pick(seriesList, KnownSeries(), "Series", "kernel series")
	if err != nil {
		return nil, err
	}
	as, err := pick(archList, KnownArches(), "Arch", "architecture")
	if err != nil {
		return nil, err
	}
	var ts []Target
	for _, s := range ss {
		for _, name := range as {
			a, _ := LookupArch(name)
			ts = append(ts, Target{Series: s, Arch: a})
		}
	}
	return ts, nil
}

// pick splits list and checks each entry against known.
func pick(list string, known []string, field, what string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return known, nil
	}
	var out []string
	for _, v := range strings.Split(list, ",") {
		v = strings.TrimSpace(v)
		ok := false
		for _, k := range known {
			ok = ok || k == v
		}
		if !ok {
			return nil, &UnknownError{Field: field, What: what, Value: v, Known: known}
		}
		out = append(out, v)
	}
	return out, nil
}
