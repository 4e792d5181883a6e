package main

import (
	"bytes"
	"testing"
)

// TestBadInput: one line on stderr naming the value at fault and the
// remedy, exit status 2, nothing on stdout.
func TestBadInput(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		path string // PATH, when set
		want string
	}{
		{"series", []string{"--series", "5.10"}, "", "matrix: --series 5.10: unknown kernel series (known: 6.1, 6.12)\n"},
		{"arch", []string{"--arch", "amd64,riscv64"}, "", "matrix: --arch riscv64: unknown architecture (known: amd64, arm64)\n"},
		{"accel", []string{"--accel", "hvf"}, "", "matrix: --accel hvf: unknown accelerator (known: auto, kvm, tcg)\n"},
		{"timeout", []string{"--timeout", "1m"}, "", "matrix: --timeout 1m0s: must be longer than --boot-timeout 2m0s\n"},
		{"argument", []string{"6.1"}, "", "matrix: 6.1: unexpected argument (flags only; see --help)\n"},
		{"no qemu", []string{"--arch", "arm64"}, empty, "matrix: qemu-system-aarch64 is not installed (as root: apt-get install qemu-system-arm)\n"},
		{"no qemu amd64", nil, empty, "matrix: qemu-system-x86_64 is not installed (as root: apt-get install qemu-system-x86)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.path != "" {
				t.Setenv("PATH", tc.path)
			}
			var stdout, stderr bytes.Buffer
			code := realMain(tc.args, &stdout, &stderr)
			if code != 2 || stderr.String() != tc.want || stdout.Len() != 0 {
				t.Errorf("got exit status %d, stderr %q, stdout %q; want 2 and %q", code, stderr.String(), stdout.String(), tc.want)
			}
		})
	}
}
