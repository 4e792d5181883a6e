package profile_test

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/profile"
)

// perfFDs counts this process's open perf_event file descriptors.
func perfFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.Contains(l, "perf_event") {
			n++
		}
	}
	return n
}

// fdCounter is an observer around obs that records how many perf events
// are open once obs has started.
type fdCounter struct {
	bench.Observer
	t       *testing.T
	base, n int
}

func (f *fdCounter) Start() error {
	err := f.Observer.Start()
	f.n = perfFDs(f.t) - f.base
	return err
}

// TestSampledTransferCarriesNoTaskEvents checks the promise of the cpu
// view: while the children are sampled, the only perf events open are
// the CPU-wide samplers, one per CPU the children may run on, and not a
// single per-task event on any of their threads (each child has several
// Go runtime threads, so per-thread counters would add dozens). The
// counted transfer then opens the four software counters on every thread.
func TestSampledTransferCarriesNoTaskEvents(t *testing.T) {
	mustHavePerfEvents(t)
	p, err := profile.New(profile.Config{FreqHz: 999, Mode: "write"})
	if err != nil {
		t.Fatal(err)
	}
	var cpus unix.CPUSet
	if err := unix.SchedGetaffinity(0, &cpus); err != nil {
		t.Fatal(err)
	}
	sampled := &fdCounter{Observer: p, t: t, base: perfFDs(t)}
	runPair(t, "write", 64<<20, sampled)
	if want := min(cpus.Count(), 2); sampled.n != want {
		t.Errorf("sampled transfer: %d perf events open, want %d (one CPU-wide sampler per CPU the children run on)", sampled.n, want)
	}
	counted := &fdCounter{Observer: p.Counting(), t: t, base: perfFDs(t)}
	runPair(t, "write", 64<<20, counted)
	if counted.n < 2*4 {
		t.Errorf("counted transfer: %d perf events open, want at least 4 counters on each child's thread", counted.n)
	}
	if n := perfFDs(t) - sampled.base; n != 0 {
		t.Errorf("%d perf events left open after Stop", n)
	}
}

// TestCountedMatchesKernelAccounting checks the counted transfer's
// figures against the kernel's own accounting of the same children:
// getrusage(RUSAGE_CHILDREN) after they are reaped. The counters start at
// the gate, rusage at fork, so the counts may be lower, but not much for a
// transfer that takes most of the children's life, and never higher.
func TestCountedMatchesKernelAccounting(t *testing.T) {
	mustHavePerfEvents(t)
	p, err := profile.New(profile.Config{FreqHz: 999, Mode: "write"})
	if err != nil {
		t.Fatal(err)
	}
	var before, after unix.Rusage
	unix.Getrusage(unix.RUSAGE_CHILDREN, &before)
	steal0 := stealNS(t)
	runPair(t, "write", 512<<20, p.Counting())
	steal := stealNS(t) - steal0
	unix.Getrusage(unix.RUSAGE_CHILDREN, &after)
	c := map[string]float64{}
	for _, r := range p.Result().Roles {
		for _, x := range r.Counters {
			c[x.Name] += x.Value
		}
	}
	cpuNS := float64(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	switches := float64(after.Nvcsw + after.Nivcsw - before.Nvcsw - before.Nivcsw)
	faults := float64(after.Minflt + after.Majflt - before.Minflt - before.Majflt)
	for _, k := range []struct {
		name   string
		got    float64
		kernel float64
		low    float64 // the least share of the kernel's figure the transfer must account for
		extra  float64 // what the count may hold that the kernel's figure leaves out
	}{
		// The scheduler's runtime, which rusage reports, leaves out the
		// time the hypervisor stole from a running task; task-clock, on
		// the perf clock, keeps it.
		{"task-clock", c["task-clock"], cpuNS, 0.5, steal},
		{"context-switches", c["context-switches"], switches, 0.9, 0},
		{"page-faults", c["page-faults"], faults, 0, 0},
	} {
		t.Logf("%s: counted %.0f, kernel's rusage %.0f (+%.0f stolen)", k.name, k.got, k.kernel, k.extra)
		if k.got > k.kernel*1.02+k.extra+10 || k.got < k.kernel*k.low {
			t.Errorf("%s: counted %.0f, want between %.0f%% and 100%% of the kernel's %.0f (+%.0f stolen)", k.name, k.got, 100*k.low, k.kernel, k.extra)
		}
	}
}

// TestEventChoice checks the sampled event on this machine: the default
// is cycles where cycles samples, and cpu-clock with the reason where it
// does not (no PMU, or a PMU that counts but cannot sample); --event
// cycles where it cannot sample is refused naming why and the remedy.
// TestChooseEvent covers every kind of machine from synthetic probes.
func TestEventChoice(t *testing.T) {
	state, probeErr := profile.ProbePMU()
	p, err := profile.New(profile.Config{FreqHz: 99})
	if err != nil {
		t.Fatal(err)
	}
	res := p.Result()
	wantReason := map[profile.PMU]string{
		profile.PMUNone:   "no hardware PMU: cycles does not open here",
		profile.PMUCounts: "the PMU counts cycles but cannot sample them: ",
	}[state]
	switch {
	case state == profile.PMUSamples && (res.Event != profile.EventCycles || res.EventReason != ""):
		t.Errorf("cycles samples here: got event %q (reason %q), want cycles", res.Event, res.EventReason)
	case state != profile.PMUSamples && (res.Event != profile.EventCPUClock || !strings.HasPrefix(res.EventReason, wantReason)):
		t.Errorf("PMU %s (%v): got event %q (reason %q), want cpu-clock and %q", state, probeErr, res.Event, res.EventReason, wantReason)
	}
	_, err = profile.New(profile.Config{FreqHz: 99, Event: profile.EventCycles})
	wantErr := map[profile.PMU]string{
		profile.PMUNone:   "Event cycles: no hardware PMU here",
		profile.PMUCounts: "Event cycles: the PMU counts cycles but cannot sample them",
	}[state]
	switch {
	case state == profile.PMUSamples && err != nil:
		t.Errorf("--event cycles where cycles samples: %v", err)
	case state != profile.PMUSamples && (err == nil || !strings.Contains(err.Error(), wantErr) || !strings.Contains(err.Error(), "use Event cpu-clock")):
		t.Errorf("--event cycles with PMU %s: got %v, want %q and the remedy", state, err, wantErr)
	}
}

// TestProfileCycles samples cycles, the default where a PMU exists: the
// profiles must hold the write path and say they sampled cycles, with no
// irq-enable caveat. It cannot run without a PMU (this is not a skip that
// PIPELAB_REQUIRE_PERF turns into a failure: no setting gives a VM a PMU).
func TestProfileCycles(t *testing.T) {
	if err := profile.ProbeSampling(profile.EventCycles); err != nil {
		t.Skipf("sampling cycles needs a hardware PMU with an overflow interrupt: %v", err)
	}
	mustHavePerfEvents(t)
	p, err := profile.New(profile.Config{FreqHz: 999, Mode: "write", Event: profile.EventCycles})
	if err != nil {
		t.Fatal(err)
	}
	runPair(t, "write", 256<<20, p)
	res := p.Result()
	if res.Event != profile.EventCycles {
		t.Errorf("event %q, want cycles", res.Event)
	}
	w := res.Roles[0]
	if w.Samples == 0 || !hasCall(w.Profile, "copy_page_from_iter", "pipe_write") {
		t.Errorf("writer: %d samples, want copy_page_from_iter under anon_pipe_write\n%s", w.Samples, top(w.Profile))
	}
	// On x86 the cycle counter's overflow is an NMI, which no irq-off
	// section holds back; on arm64 it is an ordinary interrupt, and the
	// comments say it skews as cpu-clock does.
	c := strings.Join(w.Profile.Comments, "\n")
	if skews := runtime.GOARCH == "arm64"; !strings.Contains(c, "sampling: cycles at 999 Hz") || strings.Contains(c, "irq-enable") != skews {
		t.Errorf("comments do not say cycles was sampled, or say irq-enable skew is %v on %s:\n%s", !skews, runtime.GOARCH, c)
	}
}

// stealNS is the time the hypervisor has stolen from this machine's CPUs,
// all of them (the children run pinned on some of them), in nanoseconds:
// the steal column of /proc/stat's cpu line, in USER_HZ ticks of 10 ms.
func stealNS(t *testing.T) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		t.Fatalf("/proc/stat starts %q, want the cpu line with a steal column", line)
	}
	ticks, err := strconv.ParseFloat(f[8], 64)
	if err != nil {
		t.Fatalf("/proc/stat steal %q: %v", f[8], err)
	}
	const userHZ = 100 // sysconf(_SC_CLK_TCK) on Linux
	return ticks * 1e9 / userHZ
}
