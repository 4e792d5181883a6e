package profile_test

import (
	"fmt"
	"slices"
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
		// Where a waker ran is not recorded, so no sample may claim a CPU.
		for _, s := range r.Wakers.Sample {
			if c, ok := s.Label["cpu"]; ok {
				t.Errorf("%s: a wakers sample carries cpu %v, which the recording does not know", r.Name, c)
				break
			}
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

// TestWakeBusySleepsOnMutexOnly: busy mode's roles sleep on nothing but
// the pipe's mutex. Their other sleeps (waiting plus wake-up latency)
// stay under 1% of the wall time, and no more than three sleeps are ended
// by the role's own process: bench's hot loops never hand their thread to
// the Go runtime (bench.unlocked), which did so about every 25ms when the
// loops ran locked to their thread. The run moves 16GiB, so that the
// fixed cost of the start (the children's first sleeps as the gate opens,
// a few ms on a loaded machine) stays under 1%.
//
// How long the mutex sleeps last is the machine's other load, not
// pipelab: vmsplice and splice_from_pipe both take pipe->mutex, and a
// spinner that finds it held spins only while the holder runs; when the
// holder is preempted with the mutex held (splice_from_pipe reschedules
// between buffers, mutex held), or when the spinner itself must give the
// CPU to another task, it sleeps until the holder unlocks. On a quiet
// machine all the sleeps together stay under 1% (docs/tour.md); at a load
// average of 3, with the writer preempted for 30-37% of its wall time,
// the writer slept 13-16% of it, all on the mutex.
func TestWakeBusySleepsOnMutexOnly(t *testing.T) {
	res := wakeProfile(t, "busy", 16<<30)
	for _, r := range res.Roles {
		slept := r.Wake.WaitingNanos + r.Wake.WakeupNanos
		mutex := mutexSleepNS(r.Wakers)
		var by []string
		for _, w := range r.Wake.Wakers {
			by = append(by, fmt.Sprintf("%v by %s in %d sleeps", ms(w.SleepNanos), w.Waker, w.Sleeps))
			if w.Waker == r.Name && w.Sleeps > 3 {
				t.Errorf("%s: %d sleeps ended by its own process (%v), want at most 3: the Go runtime parks the transfer thread\n%s", r.Name, w.Sleeps, ms(w.SleepNanos), topWakers(r.Wakers))
			}
		}
		t.Logf("%s: slept %v of %v wall, %v of it on the pipe's mutex (%d sleeps: %s), %v preempted\n%s", r.Name,
			ms(slept), ms(r.WallNanos), ms(mutex), r.Wakeups, strings.Join(by, ", "), ms(r.PreemptedNanos), topWakers(r.Wakers))
		if (slept-mutex)*100 >= r.WallNanos {
			t.Errorf("%s: slept %v of %v wall other than on the pipe's mutex, want under 1%%\n%s", r.Name, ms(slept-mutex), ms(r.WallNanos), topWakers(r.Wakers))
		}
	}
}

// mutexSleepNS is the sleep, in ns, that a wakers profile's stacks
// through __mutex_unlock_slowpath ended: the pipe's mutex, which is the
// only mutex a busy-mode role sleeps on.
func mutexSleepNS(p *pprof.Profile) int64 {
	idx := len(p.SampleType) - 1
	var ns int64
	for _, s := range p.Sample {
		if slices.ContainsFunc(frames(s), func(f string) bool { return strings.HasPrefix(f, "__mutex_unlock_slowpath") }) {
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
