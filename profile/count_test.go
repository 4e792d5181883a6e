package profile_test

import (
	"os"
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
	runPair(t, "write", 512<<20, p.Counting())
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
	}{
		{"task-clock", c["task-clock"], cpuNS, 0.5},
		{"context-switches", c["context-switches"], switches, 0.9},
		{"page-faults", c["page-faults"], faults, 0},
	} {
		t.Logf("%s: counted %.0f, kernel's rusage %.0f", k.name, k.got, k.kernel)
		if k.got > k.kernel*1.02+10 || k.got < k.kernel*k.low {
			t.Errorf("%s: counted %.0f, want between %.0f%% and 100%% of the kernel's %.0f", k.name, k.got, 100*k.low, k.kernel)
		}
	}
}
