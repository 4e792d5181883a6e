package matrix

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBootRead: how a run ends, from the console's lines and the deadlines.
func TestBootRead(t *testing.T) {
	booted := []string{"[    2.845217] Run /init as init process", marker + "booted 6.1.0-57-cloud-amd64 x86_64", "=== RUN   TestDoctor"}
	for _, tc := range []struct {
		name        string
		lines       []string
		closeAfter  bool // QEMU exits after the lines
		bootExpires bool
		doneExpires bool
		want        Ending
	}{
		{"finished", append(append([]string{}, booted...), marker+"tests-exit 0", marker+"done"), true, false, false, Finished},
		{"no boot, QEMU exits", []string{"SeaBIOS (version 1.16.2)"}, true, false, false, NoBoot},
		{"no boot, deadline", []string{"SeaBIOS (version 1.16.2)"}, false, true, false, NoBoot},
		{"hung", booted, false, true, true, Hung},
		{"stopped", append(append([]string{}, booted...), "[   40.1] Kernel panic - not syncing: Fatal exception"), true, false, false, Stopped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := make(chan string, len(tc.lines))
			for _, l := range tc.lines {
				lines <- l
			}
			if tc.closeAfter {
				close(lines)
			}
			bootBy, doneBy := make(chan time.Time, 1), make(chan time.Time, 1)
			var log strings.Builder
			b := Boot{Log: &log}
			c := &Console{}
			go func() {
				// The deadlines pass once the lines are read.
				for len(lines) > 0 {
					time.Sleep(time.Millisecond)
				}
				if tc.bootExpires {
					bootBy <- time.Now()
				}
				if tc.doneExpires {
					time.Sleep(10 * time.Millisecond)
					doneBy <- time.Now()
				}
			}()
			if got := b.read(c, lines, bootBy, doneBy); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if got := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n"); !slices.Equal(got, tc.lines) {
				t.Errorf("console log %q, want every line %q", got, tc.lines)
			}
		})
	}
}

func TestBootArgs(t *testing.T) {
	b := Boot{Arch: arches[0], Kernel: "vmlinuz", Initrd: "initrd.cpio", MemMiB: 1024, CPUs: 2}
	got := strings.Join(b.Args(), " ")
	want := "-accel tcg,thread=single -M pc -cpu max -m 1024 -smp 2 -nodefaults -no-user-config -display none -monitor none -serial stdio -no-reboot -kernel vmlinuz -initrd initrd.cpio -append console=ttyS0 panic=-1 rdinit=/init pipelab.accel=tcg"
	if got != want {
		t.Errorf("TCG amd64:\n got %s\nwant %s", got, want)
	}
	b.Arch, b.KVM = arches[1], true
	if got := strings.Join(b.Args(), " "); !strings.HasPrefix(got, "-accel kvm -M virt -cpu host ") || !strings.Contains(got, "console=ttyAMA0") {
		t.Errorf("KVM arm64: %s", got)
	}
	if arches[1].Machine[3] != "max" {
		t.Error("Args changed the arch's own machine arguments")
	}
}
