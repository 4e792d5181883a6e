package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pipelab/pipelab/profile"
)

// cpuidleDir is where the kernel describes the CPU idle driver and
// governor; haltpollDir holds the haltpoll guest driver's parameters.
// Variables so tests can point them at fixtures.
var (
	cpuidleDir  = "/sys/devices/system/cpu/cpuidle"
	haltpollDir = "/sys/module/haltpoll/parameters"
)

// checkIdle reports the CPU idle driver and governor and, with the
// haltpoll driver (KVM and other guests), how long an idle CPU polls
// before it halts: what every wake-up of a blocking mode pays.
func checkIdle() check {
	c := check{Name: "CPU idle", Status: statusOK}
	driver, derr := readTrim(filepath.Join(cpuidleDir, "current_driver"))
	governor, _ := readTrim(filepath.Join(cpuidleDir, "current_governor"))
	if derr != nil {
		c.Detail = "no cpuidle driver (" + derr.Error() + "): idle CPUs use the architecture's default idle loop"
		c.Remedy = "none needed; the blocking modes pay a CPU's wake from idle on every sleep"
		return c
	}
	c.Detail = fmt.Sprintf("driver %s, governor %s", driver, orNone(governor))
	c.Remedy = "a wake-up of an idle CPU costs the blocking modes (write, vmsplice, splice, huge) time on every sleep; pipelab profile --view wall shows the wake-up latency"
	if poll, err := readTrim(filepath.Join(haltpollDir, "guest_halt_poll_ns")); err == nil {
		c.Detail += ", haltpoll.guest_halt_poll_ns=" + poll
		if poll == "0" {
			c.Detail += ": an idle CPU halts at once, so every wake-up of a sleeping reader or writer exits to the hypervisor"
			c.Remedy = "pipelab profile --view wall shows the wake-up latency this costs; to let idle CPUs poll first: echo 200000 > " + filepath.Join(haltpollDir, "guest_halt_poll_ns") + " (or boot with haltpoll.guest_halt_poll_ns=200000); pipelab changes neither"
		}
	}
	return c
}

// checkTracefs reports whether tracefs is mounted and the sched
// tracepoints open: what the wall view needs to record who woke whom.
// mounted says that doctor --mount-tracefs just mounted it.
func checkTracefs(mounted bool) check {
	c := check{Name: "sched tracepoints"}
	err := profile.ProbeWakeups()
	switch {
	case err == nil:
		dir, _ := profile.TracefsDir()
		c.Status, c.Detail = statusOK, "tracefs at "+dir+", sched:sched_waking opens on every CPU: --view wall records who woke whom"
		if mounted {
			c.Detail = "mounted tracefs at " + profile.TracefsMountPoint + " (--mount-tracefs); " + c.Detail[len("tracefs at "+dir+", "):]
		}
	case errors.Is(err, profile.ErrNoTracefs):
		c.Status, c.Detail = statusLimited, "tracefs is not mounted: --view wall runs without wakers and wake-up latency"
		c.Remedy = "mount -t tracefs nodev " + profile.TracefsMountPoint
		if os.Geteuid() == 0 {
			c.Detail += "; pipelab runs as root and can mount it when asked"
			c.Remedy += ", or pipelab doctor --mount-tracefs"
		}
	default:
		c.Status, c.Detail = statusLimited, err.Error()+"; --view wall runs without wakers and wake-up latency"
		c.Remedy = "run as root, or sysctl kernel.perf_event_paranoid=-1, or grant CAP_PERFMON"
	}
	return c
}

// mountTracefs mounts tracefs for doctor --mount-tracefs unless it is
// mounted already; it reports whether it mounted it.
func mountTracefs() (bool, error) {
	if _, err := profile.TracefsDir(); err == nil {
		return false, nil
	}
	if err := profile.MountTracefs(); err != nil {
		return false, fmt.Errorf("doctor --mount-tracefs: %w (run as root)", err)
	}
	return true, nil
}

// readTrim reads a one-line sysfs file.
func readTrim(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
