package attribute

import (
	"fmt"
	"sort"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/table"
	"github.com/pipelab/pipelab/internal/tally"
)

// wakeFrames are the scheduler's wake-up machinery at the top of a
// waker's stack; the waking site is the first frame past them.
var wakeFrames = map[string]bool{
	"try_to_wake_up": true, "default_wake_function": true, "autoremove_wake_function": true,
	"woken_wake_function": true, "wake_up_process": true, "wake_up_q": true, "wake_up_state": true,
	"__wake_up_common": true, "__wake_up_common_lock": true, "__wake_up": true, "__wake_up_sync_key": true,
	"__wake_up_locked_key": true, "__wake_up_sync": true, "pollwake": true, "ep_poll_callback": true,
	"__wake_up_locked": true, "wake_up_var": true, "__wake_up_bit": true, "wake_up_bit": true,
}

// WakerSites finds, per waker label of a wakers profile
// (MODE.ROLE.wakers.pb.gz), where its heaviest stack by the last sample
// type (sleep/nanoseconds) woke the role: "site → wake-up function".
func WakerSites(p *pprof.Profile) map[string]string {
	if p == nil || len(p.SampleType) == 0 {
		return nil
	}
	idx := len(p.SampleType) - 1
	type key struct{ waker, from string }
	by := map[key]int64{}
	for _, s := range p.Sample {
		if len(s.Label["waker"]) == 0 {
			continue
		}
		by[key{s.Label["waker"][0], wakingSite(tally.Frames(s))}] += s.Value[idx]
	}
	keys := make([]key, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if by[keys[i]] != by[keys[j]] {
			return by[keys[i]] > by[keys[j]]
		}
		return keys[i].from < keys[j].from
	})
	out := map[string]string{}
	for _, k := range keys {
		if _, ok := out[k.waker]; !ok {
			out[k.waker] = k.from
		}
	}
	return out
}

// wakingSite names a waker's stack (leaf first) by the first frame past
// the wake-up machinery and the last machinery frame it called.
func wakingSite(fs []tally.Frame) string {
	var callee string
	for _, f := range fs {
		if f.Kernel && wakeFrames[f.Key] {
			callee = f.Name
			continue
		}
		if callee == "" {
			return f.Name
		}
		return f.Name + " → " + callee
	}
	if callee != "" {
		return callee
	}
	if len(fs) == 0 {
		return "[no stack]"
	}
	return fs[0].Name
}

// WakeSentence says in one line how a role's sleeps ended: "slept 120ms
// (2900 sleeps/GiB): 98% woken by the reader from anon_pipe_read →
// __wake_up, wake-up latency median 39µs (p90 60µs, p99 130µs), 61% of
// off-CPU time". "" without wake-up data.
func WakeSentence(w WallRole) string {
	k := w.Wake
	if k == nil {
		return ""
	}
	slept := k.WaitingNanos + k.WakeupNanos
	s := fmt.Sprintf("slept %s (%s sleeps/GiB)", table.Nanos(float64(slept)), table.PerGiB(w.WakeupsPerGiB))
	if len(k.Wakers) > 0 && slept > 0 {
		top := k.Wakers[0]
		by := "the " + top.Waker
		switch top.Waker {
		case w.Role:
			by = "the " + w.Role + " itself"
		case "interrupt":
			by = "an interrupt"
		case "other task":
			by = "another task"
		case "not recorded":
			by = "a waker not recorded"
		}
		s += fmt.Sprintf(": %s woken by %s", table.Percent(float64(top.SleepNanos)/float64(slept)), by)
		if top.From != "" {
			s += " from " + top.From
		}
	}
	if k.Sleeps > 0 {
		s += fmt.Sprintf(", wake-up latency median %s (p90 %s, p99 %s)", table.Nanos(float64(k.LatencyMedianNanos)), table.Nanos(float64(k.LatencyP90Nanos)), table.Nanos(float64(k.LatencyP99Nanos)))
	}
	if w.OffCPUNanos > 0 {
		s += fmt.Sprintf(", %s of off-CPU time", table.Percent(float64(k.WakeupNanos)/float64(w.OffCPUNanos)))
	}
	return s
}
