package matrix

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// hostDebArch is the Debian architecture of this machine.
func hostDebArch() string { return runtime.GOARCH }

// KVMUsable reports whether a guest of arch may try KVM here: the same
// architecture as the host and /dev/kvm opens. Whether KVM then boots a
// stock kernel only a boot tells (a paravirtual /dev/kvm such as PVM's
// opens but does not).
func KVMUsable(arch Arch) bool {
	if arch.Name != hostDebArch() {
		return false
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// Boot is how one guest is started and how long it may take.
type Boot struct {
	Arch Arch
	// Kernel and Initrd are the image and initramfs paths.
	Kernel, Initrd string
	// KVM boots with -accel kvm -cpu host instead of the arch's TCG.
	KVM bool
	// MemMiB and CPUs size the guest.
	MemMiB, CPUs int
	// BootTimeout bounds the time until the init script runs, Timeout the
	// whole run.
	BootTimeout, Timeout time.Duration
	// Log receives the raw console (nil: discarded).
	Log io.Writer
}

// Accel names the accelerator as the table shows it.
func (b Boot) Accel() string {
	if b.KVM {
		return "KVM"
	}
	return "TCG"
}

// Args returns QEMU's command line, without the binary. The kernel's
// command line carries pipelab.accel=tcg or kvm (an unknown parameter the
// kernel ignores), so the checks in the guest know whether its CPU is
// emulated (e2e's TestEmulation).
func (b Boot) Args() []string {
	machine := append([]string(nil), b.Arch.Machine...)
	accel := b.Arch.TCG
	if b.KVM {
		accel = "kvm"
		for i := range machine {
			if i > 0 && machine[i-1] == "-cpu" {
				machine[i] = "host"
			}
		}
	}
	args := []string{"-accel", accel}
	args = append(args, machine...)
	return append(args,
		"-m", fmt.Sprint(b.MemMiB), "-smp", fmt.Sprint(b.CPUs),
		"-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
		"-kernel", b.Kernel, "-initrd", b.Initrd,
		"-append", "console="+b.Arch.Console+" panic=-1 rdinit=/init pipelab.accel="+strings.ToLower(b.Accel()))
}

// Ending says how a guest's run ended.
type Ending string

// Endings of a guest's run.
const (
	// Finished: the init script reached its end.
	Finished Ending = "finished"
	// NoBoot: the init script never ran before BootTimeout or QEMU's exit.
	NoBoot Ending = "did not boot"
	// Hung: booted, but did not finish before Timeout.
	Hung Ending = "hung"
	// Stopped: QEMU exited before the script's end (a panic, a crash).
	Stopped Ending = "stopped"
)

// Outcome is what came of one boot.
type Outcome struct {
	Console *Console
	Ending  Ending
	// QEMUError is QEMU's stderr when it exited with an error.
	QEMUError string
}

// Run boots the guest and reads its console until it powers off, QEMU
// exits or a deadline passes, when QEMU is killed.
func (b Boot) Run() *Outcome {
	o := &Outcome{Console: &Console{}}
	cmd := exec.Command(b.Arch.QEMU, b.Args()...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		o.Ending, o.QEMUError = NoBoot, err.Error()
		return o
	}
	lines := make(chan string)
	go readLines(out, lines)
	bootBy := time.NewTimer(b.BootTimeout)
	defer bootBy.Stop()
	doneBy := time.NewTimer(b.Timeout)
	defer doneBy.Stop()
	o.Ending = b.read(o.Console, lines, bootBy.C, doneBy.C)
	if o.Ending == NoBoot || o.Ending == Hung {
		cmd.Process.Kill()
		for range lines {
		}
	}
	if err := cmd.Wait(); err != nil && o.Ending != NoBoot && o.Ending != Hung {
		o.QEMUError = strings.TrimSpace(stderr.String())
	} else if o.Ending == NoBoot && !o.Console.Booted {
		o.QEMUError = strings.TrimSpace(stderr.String())
	}
	return o
}

// read feeds the console's lines to c until the channel closes or a
// deadline passes, and says how the run ended.
func (b Boot) read(c *Console, lines <-chan string, bootBy, doneBy <-chan time.Time) Ending {
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				switch {
				case c.Done:
					return Finished
				case !c.Booted:
					return NoBoot
				}
				return Stopped
			}
			if b.Log != nil {
				io.WriteString(b.Log, l+"\n")
			}
			c.Line(l)
		case <-bootBy:
			if !c.Booted {
				return NoBoot
			}
		case <-doneBy:
			return Hung
		}
	}
}

// readLines sends r's lines on ch and closes it at EOF.
func readLines(r io.Reader, ch chan<- string) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		l, err := br.ReadString('\n')
		if l != "" {
			ch <- strings.TrimRight(l, "\n")
		}
		if err != nil {
			close(ch)
			return
		}
	}
}
