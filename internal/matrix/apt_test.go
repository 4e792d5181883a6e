package matrix

import (
	"slices"
	"testing"
)

// aptSearch is a cut of `apt-cache search --names-only '^linux-image-'` on
// Debian 12 with arm64 added, in apt's own (unsorted) order.
const aptSearch = `linux-image-6.1.0-47-cloud-amd64-dbg - Debug symbols for linux-image-6.1.0-47-cloud-amd64
linux-image-6.1.0-47-cloud-amd64-unsigned - Linux 6.1 for x86-64 cloud
linux-image-cloud-amd64 - Linux for x86-64 cloud (meta-package)
linux-image-6.1.0-9-cloud-amd64 - Linux 6.1 for x86-64 cloud (signed)
linux-image-6.1.0-57-cloud-amd64 - Linux 6.1 for x86-64 cloud (signed)
linux-image-6.12-cloud-amd64 - Linux for x86-64 cloud (meta-package)
linux-image-6.12.100+deb12-cloud-amd64 - Linux 6.12 for x86-64 cloud (signed)
linux-image-6.12.118+deb12-cloud-amd64 - Linux 6.12 for x86-64 cloud (signed)
linux-image-6.12.99+deb12-cloud-amd64 - Linux 6.12 for x86-64 cloud (signed)
linux-image-6.1.0-48-cloud-amd64 - Linux 6.1 for x86-64 cloud (signed)
linux-image-6.12.118+deb12-cloud-arm64 - Linux 6.12 for arm64 cloud (signed)
linux-image-6.1.0-57-cloud-arm64 - Linux 6.1 for arm64 cloud (signed)
linux-image-6.1.0-57-rt-amd64 - Linux 6.1 for x86-64, PREEMPT_RT (signed)
linux-image-6.12.118+deb12-cloud-arm64-dbg - Debug symbols for linux-image-6.12.118+deb12-cloud-arm64
`

func TestKernelCandidates(t *testing.T) {
	for _, tc := range []struct {
		series, arch string
		want         []string
	}{
		{"6.1", "amd64", []string{"linux-image-6.1.0-57-cloud-amd64", "linux-image-6.1.0-48-cloud-amd64", "linux-image-6.1.0-9-cloud-amd64"}},
		{"6.12", "amd64", []string{"linux-image-6.12.118+deb12-cloud-amd64", "linux-image-6.12.100+deb12-cloud-amd64", "linux-image-6.12.99+deb12-cloud-amd64"}},
		{"6.1", "arm64", []string{"linux-image-6.1.0-57-cloud-arm64"}},
		{"6.12", "arm64", []string{"linux-image-6.12.118+deb12-cloud-arm64"}},
		{"6.8", "amd64", nil},
	} {
		got := KernelCandidates(aptSearch, tc.series, tc.arch)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %s: got %q, want %q", tc.series, tc.arch, got, tc.want)
		}
	}
}

func TestKernelSeries(t *testing.T) {
	for _, tc := range []struct{ pkg, series, arch string }{
		{"linux-image-6.1.0-57-cloud-amd64", "6.1", "amd64"},
		{"linux-image-6.12.118+deb12-cloud-arm64", "6.12", "arm64"},
		{"linux-image-6.12-cloud-arm64", "", ""},
		{"busybox", "", ""},
	} {
		s, a, ok := KernelSeries(tc.pkg)
		if s != tc.series || a != tc.arch || ok != (tc.series != "") {
			t.Errorf("%s: got %q %q %v, want %q %q", tc.pkg, s, a, ok, tc.series, tc.arch)
		}
	}
}

func TestTargets(t *testing.T) {
	ts, err := Targets("", "")
	if err != nil || len(ts) != 4 || ts[0].String() != "6.1-amd64" || ts[3].String() != "6.12-arm64" {
		t.Fatalf("got %v, %v; want 6.1 and 6.12 on amd64 and arm64", ts, err)
	}
	for _, tc := range []struct{ series, arch, want string }{
		{"5.10", "", "5.10: unknown kernel series (known: 6.1, 6.12)"},
		{"6.1", "riscv64", "riscv64: unknown architecture (known: amd64, arm64)"},
		{"6.1,", "", ": unknown kernel series (known: 6.1, 6.12)"},
	} {
		_, err := Targets(tc.series, tc.arch)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Targets(%q, %q): got %v, want %q", tc.series, tc.arch, err, tc.want)
		}
	}
}
