package profile

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	perf "github.com/elastic/go-perf"
	"golang.org/x/sys/unix"
)

// ErrNotSupported is wrapped by errors about an event this machine cannot
// open, such as hardware counters in a VM without a PMU.
var ErrNotSupported = errors.New("not supported here")

// ErrRestrictedKernel is wrapped by errors saying that kernel addresses are
// hidden (kernel.kptr_restrict, or an unprivileged user), so kernel frames
// cannot be named.
var ErrRestrictedKernel = errors.New("kernel addresses are hidden")

// Paranoid returns kernel.perf_event_paranoid.
func Paranoid() (int, error) { return readSysctlInt("/proc/sys/kernel/perf_event_paranoid") }

// KptrRestrict returns kernel.kptr_restrict.
func KptrRestrict() (int, error) { return readSysctlInt("/proc/sys/kernel/kptr_restrict") }

// MaxSampleRate returns kernel.perf_event_max_sample_rate in Hz.
func MaxSampleRate() (int, error) {
	return readSysctlInt("/proc/sys/kernel/perf_event_max_sample_rate")
}

func readSysctlInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return n, nil
}

// ProbeHardwareCounters opens the cycles counter on the calling thread. It
// returns nil when that works and an error wrapping ErrNotSupported when
// this machine has no usable PMU.
func ProbeHardwareCounters() error {
	attr := counterAttr(hardwareCounters[0])
	ev, err := perf.Open(&attr, 0, perf.AnyCPU, nil)
	if err != nil {
		return openError("cycles", 0, err)
	}
	return ev.Close()
}

// CounterProbe is whether one hardware counter opens here.
type CounterProbe struct {
	// Name is the perf name, e.g. "instructions".
	Name string
	// Err is nil when the counter opens.
	Err error
}

// ProbeHardware opens each hardware counter (cycles, instructions,
// cache-misses, dTLB-load-misses) on the calling thread as profile counts
// them, in that order.
func ProbeHardware() []CounterProbe {
	out := make([]CounterProbe, len(hardwareCounters))
	for i, c := range hardwareCounters {
		out[i].Name = c.name
		attr := counterAttr(c)
		ev, err := perf.Open(&attr, 0, perf.AnyCPU, nil)
		if err != nil {
			out[i].Err = openError(c.name, 0, err)
			continue
		}
		ev.Close()
	}
	return out
}

// ProbeUserSampling opens user-space-only cpu-clock sampling on the
// calling thread: what profile falls back to when the kernel refuses
// kernel-side events (kernel.perf_event_paranoid 2 without privilege).
func ProbeUserSampling() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	attr := samplingAttr(EventCPUClock, 1000)
	excludeKernel(&attr)
	ev, err := perf.Open(&attr, tid, perf.AnyCPU, nil)
	if err != nil {
		return openError("cpu-clock (user space)", tid, err)
	}
	return ev.Close()
}

// ProbeKernelCallchain samples the calling thread with cpu-clock while it
// makes system calls and checks that a kernel frame arrives. It wraps
// ErrNotSupported when samples come without kernel frames.
func ProbeKernelCallchain() error {
	runtime.LockOSThread() // the event follows this thread only
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	attr := samplingAttr(EventCPUClock, 10000)
	ev, err := perf.Open(&attr, tid, perf.AnyCPU, nil)
	if err != nil {
		return openError("cpu-clock", tid, err)
	}
	defer ev.Close()
	if err := ev.MapRingNumPages(16); err != nil {
		return fmt.Errorf("probe kernel callchain: %w", err)
	}
	if err := ev.Enable(); err != nil {
		return fmt.Errorf("probe kernel callchain: %w", err)
	}
	busySyscalls(50 * time.Millisecond)
	ev.Disable()
	var raw perf.RawRecord
	var s record
	n := 0
	for ev.HasRecord() {
		if err := ev.ReadRawRecord(expiredCtx(), &raw); err != nil {
			break
		}
		if raw.Header.Type != perf.RecordTypeSample || decodeSample(raw.Data, &s) != nil {
			continue
		}
		n++
		if s.hasKernelFrame() {
			return nil
		}
	}
	return fmt.Errorf("probe kernel callchain: %d samples, none with a kernel frame: %w (perf_event_paranoid must be 1 or lower, or CAP_PERFMON, to see kernel stacks)", n, ErrNotSupported)
}

// busySyscalls keeps the calling thread in the kernel for about d.
func busySyscalls(d time.Duration) {
	var fds [2]int
	if unix.Pipe2(fds[:], unix.O_CLOEXEC) != nil {
		return
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	buf := make([]byte, 4096)
	for end := time.Now().Add(d); time.Now().Before(end); {
		unix.Write(fds[1], buf)
		unix.Read(fds[0], buf)
	}
}

// openError turns a perf_event_open failure of a counting event into one
// line with a remedy.
func openError(event string, pid int, err error) error {
	return eventOpenError(event, pid, false, err)
}

// samplingOpenError is openError for a sampling event.
func samplingOpenError(event string, pid int, err error) error {
	return eventOpenError(event, pid, true, err)
}

func eventOpenError(event string, pid int, sampling bool, err error) error {
	op := fmt.Sprintf("perf_event_open %s pid %d", event, pid)
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENODEV):
		return fmt.Errorf("%s: %w: %w (%s)", op, ErrNotSupported, err, unsupportedHint(event, sampling, err))
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		level, _ := Paranoid()
		return fmt.Errorf("%s: %w (kernel.perf_event_paranoid=%d; run as root, set it to 1 or lower, or grant CAP_PERFMON)", op, err, level)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// unsupportedHint says what an ENOENT, EOPNOTSUPP or ENODEV from
// perf_event_open means for event: cycles missing means no PMU at all,
// another hardware event missing means this PMU does not count it, and a
// PMU that counts but refuses a sampling event has no overflow interrupt.
func unsupportedHint(event string, sampling bool, err error) string {
	hw := isHardware(event)
	switch {
	case hw && sampling && errors.Is(err, unix.EOPNOTSUPP):
		return "the PMU refuses sampling events: it has no overflow interrupt here"
	case event == EventCycles:
		return "no hardware PMU; software events only"
	case hw:
		return "not an event this machine's PMU counts"
	}
	return "not available in this kernel"
}

// isHardware reports whether event is one of the hardware counters.
func isHardware(event string) bool {
	for _, c := range hardwareCounters {
		if c.name == event {
			return true
		}
	}
	return false
}

// ProbeAttach opens and closes the least privileged event pipelab could
// put on pid, a user-space task-clock counter, so that a process that
// cannot be profiled at all is refused before anything runs. The error
// names the setting at fault: kernel.perf_event_paranoid, or ptrace
// access when pid belongs to another user (kernel.yama.ptrace_scope).
func ProbeAttach(pid int) error {
	a := counterAttr(softwareCounters[0])
	a.Options.Inherit = false
	excludeKernel(&a)
	ev, err := perf.Open(&a, pid, -1, nil)
	if err == nil {
		return ev.Close()
	}
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		level, _ := Paranoid()
		return fmt.Errorf("perf_event_open task-clock pid %d: %w (kernel.perf_event_paranoid=%d, and profiling another user's process needs ptrace access, see kernel.yama.ptrace_scope; run as root or as the process's owner, or grant CAP_PERFMON)", pid, err, level)
	}
	return openError("task-clock", pid, err)
}
