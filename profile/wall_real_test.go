package profile_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	perf "github.com/elastic/go-perf"
	pprof "github.com/google/pprof/profile"
	"golang.org/x/sys/unix"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/internal/testenv"
	"github.com/pipelab/pipelab/profile"
)

// profileMode runs mode through bench with a profiler of view and returns
// what it recorded, after checking every wall profile round-trips.
func profileMode(t *testing.T, mode, view string, bytes int64) (*profile.Result, *bench.Result) {
	t.Helper()
	mustHavePerfEvents(t)
	p, err := profile.New(profile.Config{FreqHz: 999, Mode: mode, View: view})
	if err != nil {
		t.Fatal(err)
	}
	br := runPair(t, mode, bytes, p)
	res := p.Result()
	for _, r := range res.Roles {
		if r.Wall != nil {
			r.Wall = roundTrip(t, r.Name+" wall", r.Wall)
		}
	}
	return res, br
}

// mustHaveContextSwitches skips unless the wall view's context-switch
// events open here; with PIPELAB_REQUIRE_PERF=1 it fails instead.
func mustHaveContextSwitches(t *testing.T) {
	t.Helper()
	testenv.Require(t, profile.ProbeContextSwitches(), "context-switch events")
}

// wallProfile profiles mode in the wall view and wants the view to run.
func wallProfile(t *testing.T, mode string, bytes int64) (*profile.Result, *bench.Result) {
	t.Helper()
	mustHavePerfEvents(t)
	mustHaveContextSwitches(t)
	res, br := profileMode(t, mode, "wall", bytes)
	if res.View != "wall" {
		t.Fatalf("%s: view %q, want wall; warnings %q", mode, res.View, res.Warnings)
	}
	for _, r := range res.Roles {
		if r.Wall == nil {
			t.Fatalf("%s %s: no wall profile", mode, r.Name)
		}
	}
	return res, br
}

// sums adds the cpu/nanoseconds and offcpu/nanoseconds values of p.
func sums(p *pprof.Profile) (cpuNS, offNS int64) {
	for _, s := range p.Sample {
		cpuNS += s.Value[1]
		offNS += s.Value[2]
	}
	return cpuNS, offNS
}

// pipeWaitNS sums the off-CPU time of p spent asleep waiting on a pipe:
// stacks where schedule is called from pipe_wait_readable or
// pipe_wait_writable (wait_for_space, splice), or straight from the pipe's
// read or write (anon_pipe_read / anon_pipe_write since 6.15, pipe_read /
// pipe_write before, which wait inline).
func pipeWaitNS(p *pprof.Profile) int64 {
	var ns int64
	for _, s := range p.Sample {
		if s.Value[2] > 0 && scheduleCaller(s, "pipe_wait_readable", "pipe_wait_writable", "pipe_read", "pipe_write") {
			ns += s.Value[2]
		}
	}
	return ns
}

// scheduleCaller reports whether s calls schedule from a function whose
// name contains one of callers.
func scheduleCaller(s *pprof.Sample, callers ...string) bool {
	names := frames(s)
	for i := 0; i+1 < len(names); i++ {
		if names[i] != "schedule" {
			continue
		}
		for _, c := range callers {
			if strings.Contains(names[i+1], c) {
				return true
			}
		}
	}
	return false
}

// frames lists the function names of s, leaf first.
func frames(s *pprof.Sample) []string {
	var names []string
	for _, l := range s.Location {
		for _, ln := range l.Line {
			names = append(names, ln.Function.Name)
		}
	}
	return names
}

func TestWallWriteModeBlocksInPipeWait(t *testing.T) {
	res, _ := wallProfile(t, "write", 64<<20)
	found := false
	for _, r := range res.Roles {
		if got := []string{r.Wall.SampleType[2].Type, r.Wall.SampleType[2].Unit}; got[0] != "offcpu" || got[1] != "nanoseconds" {
			t.Errorf("%s: third sample type %v, want offcpu/nanoseconds", r.Name, got)
		}
		ns := pipeWaitNS(r.Wall)
		t.Logf("%s: off-CPU %v of %v wall; %v in pipe_wait_*; %d switch-outs, %d wakeups",
			r.Name, ms(r.OffCPUNanos), ms(r.WallNanos), ms(ns), r.Switches, r.Wakeups)
		if ns > 0 && stackHasKernelMapping(r.Wall) {
			found = true
		}
		if r.Switches == 0 || r.Wakeups == 0 || r.Wakeups > r.Switches {
			t.Errorf("%s: %d switch-outs, %d wakeups; want 0 < wakeups <= switch-outs (write mode sleeps)", r.Name, r.Switches, r.Wakeups)
		}
	}
	if !found {
		t.Errorf("no role shows off-CPU time asleep in a pipe wait (pipe_wait_*, anon_pipe_*)\nwriter:\n%s\nreader:\n%s",
			topOff(res.Roles[0].Wall), topOff(res.Roles[1].Wall))
	}
	// The cpu view's files keep their schema in the wall view.
	for _, r := range res.Roles {
		if n := len(r.Profile.SampleType); n != 2 {
			t.Errorf("%s: cpu profile has %d sample types, want 2", r.Name, n)
		}
	}
	c, err := res.Combined()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.SampleType); n != 2 {
		t.Errorf("combined profile has %d sample types, want 2 (it stays the cpu profile)", n)
	}
}

// stackHasKernelMapping reports whether p puts frames under
// [kernel.kallsyms].
func stackHasKernelMapping(p *pprof.Profile) bool {
	for _, m := range p.Mapping {
		if m.File == "[kernel.kallsyms]" {
			return true
		}
	}
	return false
}

// TestWallBusyModeStaysOnCPU: busy mode's spinning ends leave the CPU
// only when another task takes it (preempted) or on the pipe's mutex,
// whose holder may itself be preempted: the rest of their off-CPU time
// stays under 5% of their wall time, on any load. On a machine that
// leaves them alone they are off the CPU for under 5% all told; at a load
// average of 5.4 here they were off for 50-54% of the wall time, nearly
// all of it preempted, and the writer asleep on the mutex for 9-17%.
// TestWakeBusySleepsOnMutexOnly measures the sleeps themselves, one by
// one; the wall view tells preempted time from sleeps only as a total, so
// here the mutex's off-CPU time, preempted or not, is set aside with the
// preempted time. The run moves 8GiB (a quarter to half a second here):
// the start of a run costs the spinners a fixed 3-8ms off the CPU while
// the parent enables its events, which is over 5% of a 256MiB run's 15ms.
func TestWallBusyModeStaysOnCPU(t *testing.T) {
	res, _ := wallProfile(t, "busy", 8<<30)
	for _, r := range res.Roles {
		mutex := mutexOffNS(r.Wall)
		t.Logf("%s: off-CPU %v of %v wall (%.1f%%; %v preempted, %v on the pipe's mutex)\n%s", r.Name,
			ms(r.OffCPUNanos), ms(r.WallNanos), 100*float64(r.OffCPUNanos)/float64(r.WallNanos),
			ms(r.PreemptedNanos), ms(mutex), topOff(r.Wall))
		if rest := r.OffCPUNanos - r.PreemptedNanos - mutex; rest*20 >= r.WallNanos {
			t.Errorf("%s: off the CPU for %v of %v wall neither preempted nor on the pipe's mutex, want under 5%%\n%s", r.Name, ms(rest), ms(r.WallNanos), topOff(r.Wall))
		}
	}
}

// mutexOffNS is the off-CPU time of a wall profile's stacks through
// __mutex_lock: the pipe's mutex, the only mutex a busy-mode role takes.
func mutexOffNS(p *pprof.Profile) int64 {
	var ns int64
	for _, s := range p.Sample {
		if slices.ContainsFunc(frames(s), func(f string) bool { return strings.HasPrefix(f, "__mutex_lock") }) {
			ns += s.Value[2]
		}
	}
	return ns
}

// TestWallAddsUp checks, for every step of the ladder, that a role's
// on-CPU and off-CPU time add up to its wall time, that the wall window
// lies inside the profiled run, that the wall profile's cpu and off-CPU
// values sum to OnCPUNanos and OffCPUNanos, and that no switch record went missing: the on-CPU time
// agrees with the task-clock counter, an independent measure (cpu-clock
// samples are not one: sampling each CPU charges a sample to whichever
// thread runs when a delayed timer interrupt lands).
func TestWallAddsUp(t *testing.T) {
	for _, mode := range []string{"write", "vmsplice", "splice", "huge", "busy"} {
		t.Run(mode, func(t *testing.T) {
			res, br := wallProfile(t, mode, 64<<20)
			for _, w := range res.Warnings {
				if strings.Contains(w, "context-switch") {
					t.Errorf("warning: %s", w)
				}
			}
			for _, r := range res.Roles {
				cpuNS, offNS := sums(r.Wall)
				t.Logf("%s %s (%.2f GiB/s): wall %v = on %v + off %v; profile cpu %v off %v; %d switch-outs, %d wakeups",
					mode, r.Name, br.Runs[0].GiBPerSec, ms(r.WallNanos), ms(r.OnCPUNanos), ms(r.OffCPUNanos),
					ms(cpuNS), ms(offNS), r.Switches, r.Wakeups)
				if r.WallNanos <= 0 || r.WallNanos > int64(res.Duration) {
					t.Errorf("%s: wall %v, want within the run's %v", r.Name, ms(r.WallNanos), res.Duration)
				}
				if d := r.OnCPUNanos + r.OffCPUNanos - r.WallNanos; d*20 > r.WallNanos || -d*20 > r.WallNanos {
					t.Errorf("%s: on %v + off %v = %v, want wall %v within 5%%", r.Name,
						ms(r.OnCPUNanos), ms(r.OffCPUNanos), ms(r.OnCPUNanos+r.OffCPUNanos), ms(r.WallNanos))
				}
				if cpuNS != r.OnCPUNanos || offNS != r.OffCPUNanos {
					t.Errorf("%s: wall profile cpu %v, off-CPU %v; want OnCPUNanos %v, OffCPUNanos %v",
						r.Name, ms(cpuNS), ms(offNS), ms(r.OnCPUNanos), ms(r.OffCPUNanos))
				}
				// The transfer thread's on-CPU time cannot exceed the
				// task-clock of all the role's threads; the profiler
				// itself warns when it disagrees with the thread's own
				// task-clock.
				if tc := r.Counters[0].Value; float64(r.OnCPUNanos) > tc {
					t.Errorf("%s: on-CPU %v, more than the role's task-clock %.2fms", r.Name, ms(r.OnCPUNanos), tc/1e6)
				}
				if c := strings.Join(r.Wall.Comments, "\n"); !strings.Contains(c, "task-clock ") || strings.Contains(c, "task-clock 0 ns") {
					t.Errorf("%s: wall profile comments lack the transfer thread's task-clock:\n%s", r.Name, c)
				}
			}
		})
	}
}

// TestWallWindowAfterEnable profiles this test process, whose thread that
// runs Start is on a CPU as it enables the switch events, while opening
// the wake-up recording takes 200ms, as a loaded machine can make it
// take. No thread may be given on-CPU time from before its switch events
// were enabled: the on-CPU time from the switch timestamps stays within
// the task-clock, which counts from before the window starts.
func TestWallWindowAfterEnable(t *testing.T) {
	mustHavePerfEvents(t)
	mustHaveContextSwitches(t)
	defer profile.SlowWakes(200 * time.Millisecond)()
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sleeper.Process.Kill()
		sleeper.Wait()
	}()
	p, err := profile.New(profile.Config{FreqHz: 99, Mode: "self", View: "wall"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Attach(os.Getpid(), sleeper.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	r := p.Result().Roles[0]
	tc := r.Counters[0].Value
	t.Logf("this process: on-CPU %v of wall %v from the switch timestamps, task-clock %.2fms, %d switch-outs", ms(r.OnCPUNanos), ms(r.WallNanos), tc/1e6, r.Switches)
	if r.OnCPUNanos == 0 || float64(r.OnCPUNanos) > tc {
		t.Errorf("on-CPU %v from the switch timestamps, task-clock %.2fms; want some, and no more than task-clock", ms(r.OnCPUNanos), tc/1e6)
	}
}

// TestWallFallsBackToCPU plays a kernel that refuses the context-switch
// events, from the first thread or part way through attaching: the run
// goes on in the cpu view, says why once, and leaves no event open.
func TestWallFallsBackToCPU(t *testing.T) {
	refused := fmt.Errorf("perf_event_open context-switches pid 1: %w (kernel.perf_event_paranoid=2; run as root, set it to 1 or lower, or grant CAP_PERFMON)", unix.EACCES)
	for _, allowed := range []int{0, 3} {
		t.Run(fmt.Sprintf("after %d threads", allowed), func(t *testing.T) {
			mustHaveContextSwitches(t)
			opened := 0
			defer profile.SetOpenSwitch(func(tid, cpu int) (*perf.Event, error) {
				if opened++; opened <= allowed {
					return profile.OpenSwitch(tid, cpu)
				}
				return nil, refused
			})()
			fds := openFDs(t)
			res, _ := profileMode(t, "write", "wall", 16<<20)
			if n := openFDs(t); n != fds {
				t.Errorf("open fds: %d before the run, %d after; want every event closed", fds, n)
			}
			if res.View != "cpu" {
				t.Errorf("view %q, want cpu after the switch events were refused", res.View)
			}
			want := "wall view: context-switch events refused: " + refused.Error() + "; fell back to the cpu view"
			n := 0
			for _, w := range res.Warnings {
				if w == want {
					n++
				}
			}
			if n != 1 {
				t.Errorf("warnings %q: want %q once", res.Warnings, want)
			}
			for _, r := range res.Roles {
				if r.Wall != nil || r.WallNanos != 0 || r.Switches != 0 {
					t.Errorf("%s: wall fields set after falling back: wall %v, %d ns, %d switches", r.Name, r.Wall != nil, r.WallNanos, r.Switches)
				}
				if r.Samples == 0 || len(r.Profile.SampleType) != 2 {
					t.Errorf("%s: cpu view after falling back: %d samples, %d sample types; want samples and 2 types", r.Name, r.Samples, len(r.Profile.SampleType))
				}
			}
		})
	}
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func TestCPUViewOpensNoSwitchEvents(t *testing.T) {
	opened := 0
	defer profile.SetOpenSwitch(func(int, int) (*perf.Event, error) {
		opened++
		return nil, errors.New("unexpected")
	})()
	res, _ := profileMode(t, "write", "cpu", 16<<20)
	if opened != 0 || res.View != "cpu" {
		t.Errorf("cpu view: %d switch events opened, view %q; want none and cpu", opened, res.View)
	}
	for _, r := range res.Roles {
		if r.Wall != nil {
			t.Errorf("%s: wall profile in the cpu view", r.Name)
		}
	}
}

// topOff lists the five stacks with the most off-CPU time, leaf first.
func topOff(p *pprof.Profile) string {
	type row struct {
		ns    int64
		stack string
	}
	var rows []row
	for _, s := range p.Sample {
		if s.Value[2] == 0 {
			continue
		}
		names := frames(s)
		if len(names) > 8 {
			names = names[:8]
		}
		rows = append(rows, row{s.Value[2], strings.Join(names, " < ")})
	}
	for i := range rows {
		for j := i + 1; j < len(rows); j++ {
			if rows[j].ns > rows[i].ns {
				rows[i], rows[j] = rows[j], rows[i]
			}
		}
	}
	var b strings.Builder
	for i := 0; i < len(rows) && i < 5; i++ {
		fmt.Fprintf(&b, "  %v %s\n", ms(rows[i].ns), rows[i].stack)
	}
	return b.String()
}

// ms formats nanoseconds as milliseconds.
func ms(ns int64) string { return fmt.Sprintf("%.2fms", float64(ns)/1e6) }
