package profile_test

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	pprof "github.com/google/pprof/profile"

	"github.com/pipelab/pipelab/internal/testenv"
	"github.com/pipelab/pipelab/profile"
)

// mustHaveWakeups skips unless the sched_waking tracepoint opens on every
// CPU here; with PIPELAB_REQUIRE_PERF=1 it fails instead (.ci/run mounts
// tracefs first).
func mustHaveWakeups(t *testing.T) {
	t.Helper()
	testenv.Require(t, profile.ProbeWakeups(), "sched tracepoints")
}

// wakeProfile profiles mode in the wall view and wants the wake-ups
// recorded for both roles.
func wakeProfile(t *testing.T, mode string, bytes int64) *profile.Result {
	t.Helper()
	mustHaveWakeups(t)
	res, _ := wallProfile(t, mode, bytes)
	for _, w := range res.Warnings {
		if strings.Contains(w, "wake-up") {
			t.Errorf("warning: %s", w)
		}
	}
	for _, r := range res.Roles {
		if r.Wake == nil || r.Wakers == nil {
			t.Fatalf("%s %s: wake-ups not recorded; warnings %q", mode, r.Name, res.Warnings)
		}
		r.Wakers = roundTrip(t, r.Name+" wakers", r.Wakers)
	}
	return res
}

// wakerSleepNS sums, per waker class, the sleep/nanoseconds of a wakers
// profile whose stacks hold every one of frames (substrings), and in all.
func wakerSleepNS(p *pprof.Profile, class string, frameSets ...[]string) (match, all int64) {
	idx := len(p.SampleType) - 1
	for _, s := range p.Sample {
		v := s.Value[idx]
		all += v
		if s.Label["waker"][0] != class {
			continue
		}
		names := strings.Join(frames(s), " ")
		for _, set := range frameSets {
			ok := true
			for _, f := range set {
				ok = ok && strings.Contains(names, f)
			}
			if ok {
				match += v
				break
			}
		}
	}
	return match, all
}

// TestWakersVmsplice wants, in vmsplice mode, the writer's sleeps ended
// mostly by the reader from its read path and the reader's by the writer
// from its vmsplice path.
func TestWakersVmsplice(t *testing.T) {
	res := wakeProfile(t, "vmsplice", 256<<20)
	want := map[string]struct {
		class string
		paths [][]string
	}{
		"writer": {"reader", [][]string{{"pipe_read", "__wake_up"}, {"pipe_read", "try_to_wake_up"}}},
		"reader": {"writer", [][]string{{"vmsplice", "__wake_up"}, {"vmsplice", "try_to_wake_up"}}},
	}
	for _, r := range res.Roles {
		w := want[r.Name]
		match, all := wakerSleepNS(r.Wakers, w.class, w.paths...)
		t.Logf("%s: %d sleeps, %.1f%% of sleep time ended by the %s from %v; wakers %+v; latency %+v",
			r.Name, r.Wakeups, 100*float64(match)/float64(all), w.class, w.paths, r.Wake.Wakers, r.Wake.Latency)
		if all == 0 || match*2 <= all {
			t.Errorf("%s: the %s's %v ended %d of %d ns of sleep, want most\n%s", r.Name, w.class, w.paths, match, all, topWakers(r.Wakers))
		}
	}
}

// TestWakeSplitAddsUp wants waiting + wake-up latency + preempted equal
// to the off-CPU time within 2%, and ordered, positive latency figures.
func TestWakeSplitAddsUp(t *testing.T) {
	for _, mode := range []string{"write", "vmsplice", "huge"} {
		t.Run(mode, func(t *testing.T) {
			res := wakeProfile(t, mode, 64<<20)
			for _, r := range res.Roles {
				w := r.Wake
				sum := w.WaitingNanos + w.WakeupNanos + r.PreemptedNanos
				t.Logf("%s: off-CPU %d ns = waiting %d + wake-up %d + preempted %d (%d); latency %+v",
					r.Name, r.OffCPUNanos, w.WaitingNanos, w.WakeupNanos, r.PreemptedNanos, sum, w.Latency)
				if d := sum - r.OffCPUNanos; d*50 > r.OffCPUNanos || -d*50 > r.OffCPUNanos {
					t.Errorf("%s: waiting + wake-up + preempted = %d ns, off-CPU %d ns; want within 2%%", r.Name, sum, r.OffCPUNanos)
				}
				l := w.Latency
				if l.Count == 0 || l.MedianNanos <= 0 || l.MedianNanos > l.P90Nanos || l.P90Nanos > l.P99Nanos {
					t.Errorf("%s: latency %+v; want positive with median <= p90 <= p99", r.Name, l)
				}
				var wakeNS int64
				for _, s := range r.Wall.Sample {
					wakeNS += s.Value[3]
				}
				if wakeNS != w.WakeupNanos {
					t.Errorf("%s: wall profile's wakeup/nanoseconds sum to %d, want WakeupNanos %d", r.Name, wakeNS, w.WakeupNanos)
				}
			}
		})
	}
}

// TestWakeBusySleepsLittle wants busy mode under 1% of its wall time in
// sleeps (waiting plus wake-up latency). On a loaded machine other tasks
// take the CPUs from the spinners, and a spinner preempted while it holds
// the pipe's mutex puts the other to sleep on it, so like
// TestWallBusyModeStaysOnCPU it tries three runs and skips, saying so,
// when none sleeps little but every one has a spinner preempted for 1% of
// its wall time or more. Each run moves 16GiB, so that the fixed cost of
// the start (the children's first sleeps as the gate opens, a few ms on a
// loaded machine) stays under 1%.
func TestWakeBusySleepsLittle(t *testing.T) {
	var report []string
	preemptedRuns := 0
	for try := 1; try <= 3; try++ {
		res := wakeProfile(t, "busy", 16<<30)
		little, preempted := true, false
		for _, r := range res.Roles {
			// Sleeps a role's own process ended are the Go runtime
			// handing the locked transfer thread back (runtime.startlockedm
			// after a park), not the pipe: they are logged, and left out.
			self := sleepWokenBy(r.Wakers, r.Name)
			slept := r.Wake.WaitingNanos + r.Wake.WakeupNanos - self
			line := fmt.Sprintf("run %d %s: slept %v of %v wall (%d sleeps; %v more woken by its own process), %v preempted\n%s", try, r.Name,
				ms(slept), ms(r.WallNanos), r.Wakeups, ms(self), ms(r.PreemptedNanos), topWakers(r.Wakers))
			t.Log(line)
			report = append(report, line)
			little = little && slept*100 < r.WallNanos
			preempted = preempted || r.PreemptedNanos*100 >= r.WallNanos
		}
		if little {
			return
		}
		if preempted {
			preemptedRuns++
		}
	}
	if preemptedRuns == 3 {
		load, _ := os.ReadFile("/proc/loadavg")
		t.Skipf("busy mode slept 1%% or more in three runs, each with a spinner preempted by other tasks (load average %s): this machine is too busy to check it", strings.Fields(string(load) + " ?")[0])
	}
	t.Errorf("busy mode: want under 1%% of wall time asleep (woken by the other role, an interrupt or another task) for both roles in one of three runs\n%s", strings.Join(report, "\n"))
}

// sleepWokenBy is the sleep, in ns, that waker ended in a wakers profile.
func sleepWokenBy(p *pprof.Profile, waker string) int64 {
	idx := len(p.SampleType) - 1
	var ns int64
	for _, s := range p.Sample {
		if len(s.Label["waker"]) > 0 && s.Label["waker"][0] == waker {
			ns += s.Value[idx]
		}
	}
	return ns
}

// topWakers lists the heaviest stacks of a wakers profile.
func topWakers(p *pprof.Profile) string {
	idx := len(p.SampleType) - 1
	ss := append([]*pprof.Sample(nil), p.Sample...)
	sort.Slice(ss, func(i, j int) bool { return ss[i].Value[idx] > ss[j].Value[idx] })
	var b strings.Builder
	for i, s := range ss {
		if i == 8 {
			break
		}
		b.WriteString(s.Label["waker"][0] + " " + ms(s.Value[idx]) + ": " + strings.Join(frames(s), " < ") + "\n")
	}
	return b.String()
}

// TestWallWithoutWakeups plays a machine where the tracepoint is refused:
// the wall view still runs, with one warning naming the setting, no
// wakers, and a wall profile of the same schema.
func TestWallWithoutWakeups(t *testing.T) {
	defer profile.RefuseWakes(fmt.Errorf("find tracefs: %w (mount -t tracefs nodev /sys/kernel/tracing)", profile.ErrNoTracefs))()
	res, _ := wallProfile(t, "write", 16<<20)
	n := 0
	for _, w := range res.Warnings {
		if strings.Contains(w, "wake-ups not recorded") {
			n++
			if !strings.Contains(w, "mount -t tracefs") {
				t.Errorf("warning %q does not name the setting", w)
			}
		}
	}
	if n != 1 {
		t.Errorf("warnings %q: want one about wake-ups", res.Warnings)
	}
	for _, r := range res.Roles {
		if r.Wake != nil || r.Wakers != nil {
			t.Errorf("%s: wakers without wake-ups", r.Name)
		}
		if r.OffCPUNanos == 0 || len(r.Wall.SampleType) != 4 {
			t.Errorf("%s: off-CPU %d ns, %d sample types; want the wall view with 4", r.Name, r.OffCPUNanos, len(r.Wall.SampleType))
		}
	}
}
