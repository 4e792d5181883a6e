package attribute

import (
	"fmt"
	"math"
	"sort"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/tally"
	"github.com/pipelab/pipelab/result"
)

// gib is 2^30 bytes.
const gib = 1 << 30

// WallRole is one role's wall time split into on-CPU and off-CPU time,
// from the wall view (`pipelab profile --view wall`).
type WallRole struct {
	Role string `json:"role"`
	// WallNanos is the role's wall time over the transfers; OnCPUNanos and
	// OffCPUNanos split it.
	WallNanos   int64 `json:"wall_ns"`
	OnCPUNanos  int64 `json:"on_cpu_ns"`
	OffCPUNanos int64 `json:"off_cpu_ns"`
	// OnCPUShare and OffCPUShare are OnCPUNanos and OffCPUNanos over
	// WallNanos, 0..1.
	OnCPUShare  float64 `json:"on_cpu_share"`
	OffCPUShare float64 `json:"off_cpu_share"`
	// PreemptedNanos is the part of OffCPUNanos spent runnable, waiting
	// for a CPU after an involuntary switch-out; 0 when not recorded.
	// PreemptedShare is it over WallNanos.
	PreemptedNanos int64   `json:"preempted_ns,omitempty"`
	PreemptedShare float64 `json:"preempted_share,omitempty"`
	// WallNanosPerGiB is WallNanos over the GiB moved; the On and Off
	// variants split it.
	WallNanosPerGiB   float64 `json:"wall_ns_per_gib"`
	OnCPUNanosPerGiB  float64 `json:"on_cpu_ns_per_gib"`
	OffCPUNanosPerGiB float64 `json:"off_cpu_ns_per_gib"`
	// SwitchesPerGiB and WakeupsPerGiB are context switches and wake-ups
	// per GiB moved.
	SwitchesPerGiB float64 `json:"switches_per_gib"`
	WakeupsPerGiB  float64 `json:"wakeups_per_gib"`
	// Blocking lists the sites where the role slept longest; empty without
	// a wall profile.
	Blocking []BlockingSite `json:"blocking,omitempty"`
	// FromProfile is set when the times come from the wall profile's sums
	// because the step's JSON did not record them.
	FromProfile bool `json:"from_profile,omitempty"`
	// Wake is how the role's sleeps ended, from the step's JSON; nil when
	// the wake-ups were not recorded. WakeupNanosPerGiB is its wake-up
	// latency per GiB moved.
	Wake              *result.WakeSummary `json:"wake,omitempty"`
	WakeupNanosPerGiB float64             `json:"wakeup_ns_per_gib,omitempty"`
}

// BlockingSite is where a role went to sleep: the first frame of the stack
// at switch-out, from the leaf, that is not the scheduler itself (e.g.
// pipe_wait_writable), and the frame that called it.
type BlockingSite struct {
	Site   string `json:"site"`
	Caller string `json:"caller,omitempty"`
	// OffCPUNanos is the time asleep at this site.
	OffCPUNanos int64 `json:"off_cpu_ns"`
	// Share is OffCPUNanos over the role's off-CPU time, WallShare over
	// its wall time, 0..1.
	Share     float64 `json:"share"`
	WallShare float64 `json:"wall_share"`
}

// WallChange is what one transition of the ladder did to a role's wall
// time per GiB moved.
type WallChange struct {
	Role string `json:"role"`
	// WallNanosPerGiBA and WallNanosPerGiBB are the wall time per GiB in
	// the earlier step (A) and the later one (B).
	WallNanosPerGiBA float64 `json:"wall_ns_per_gib_a"`
	WallNanosPerGiBB float64 `json:"wall_ns_per_gib_b"`
	// Removed is the share of A's wall time per GiB that B no longer
	// spends, 0..1 (negative when B spends more); RemovedOnCPU and
	// RemovedOffCPU split it into CPU time and time asleep.
	Removed       float64 `json:"removed"`
	RemovedOnCPU  float64 `json:"removed_on_cpu"`
	RemovedOffCPU float64 `json:"removed_off_cpu"`
	// WakeupNanosPerGiBA and B are the wake-up latency per GiB in A and B,
	// and RemovedWakeup the share of A's that B no longer spends (0..1,
	// negative when B spends more); zero unless both recorded wake-ups.
	WakeupNanosPerGiBA float64 `json:"wakeup_ns_per_gib_a,omitempty"`
	WakeupNanosPerGiBB float64 `json:"wakeup_ns_per_gib_b,omitempty"`
	RemovedWakeup      float64 `json:"removed_wakeup,omitempty"`
	// Sites are the blocking sites whose off-CPU time per GiB changed
	// most, biggest change first (at most maxSiteChanges), among the
	// sites both steps list.
	Sites []SiteChange `json:"sites,omitempty"`
}

// SiteChange is how one blocking site's off-CPU time per GiB moved
// between two steps.
type SiteChange struct {
	Site   string `json:"site"`
	Caller string `json:"caller,omitempty"`
	// OffCPUNanosPerGiBA and OffCPUNanosPerGiBB are the site's off-CPU
	// time per GiB moved in the earlier and the later step.
	OffCPUNanosPerGiBA float64 `json:"off_cpu_ns_per_gib_a"`
	OffCPUNanosPerGiBB float64 `json:"off_cpu_ns_per_gib_b"`
	// Removed is A minus B over A's wall time per GiB, like
	// wallChange.Removed.
	Removed float64 `json:"removed"`
}

// maxSiteChanges bounds wallChange.Sites.
const maxSiteChanges = 3

// schedFrames are the scheduler's own frames at a switch-out; the
// blocking site is the first frame past them.
var schedFrames = map[string]bool{
	"__schedule": true, "schedule": true, "context_switch": true, "prepare_task_switch": true,
	"__switch_to": true, "__switch_to_asm": true, "finish_task_switch": true,
	"schedule_timeout": true, "schedule_hrtimeout_range": true, "schedule_hrtimeout_range_clock": true,
	"io_schedule": true, "io_schedule_timeout": true, "schedule_preempt_disabled": true,
	"preempt_schedule": true, "preempt_schedule_common": true, "preempt_schedule_irq": true,
	"preempt_schedule_notrace": true, "__cond_resched": true, "_cond_resched": true,
	"perf_event_task_sched_out": true, "__perf_event_task_sched_out": true,
}

// blockingSites shares out one role's off-CPU time (the offcpu/nanoseconds
// sample type of a wall profile) among blocking sites, most time first,
// at most n (0 means 10). role "" takes every sample. wallNanos, when
// positive, gives WallShare. A profile without offcpu/nanoseconds yields
// a *FileError wrapping errSampleTypes.
func blockingSites(p *pprof.Profile, role string, wallNanos int64, n int) ([]BlockingSite, error) {
	idx := tally.FindType(p, result.OffCPUType)
	if idx < 0 {
		return nil, &result.FileError{Op: "blocking sites", Err: fmt.Errorf("%w (no sample type %s; the profile has %s; give a wall profile, MODE.ROLE.wall.pb.gz from pipelab profile --view wall)", result.ErrSampleTypes, result.OffCPUType, result.SampleTypes(p))}
	}
	type key struct{ site, caller string }
	by := map[key]int64{}
	var total int64
	for _, s := range p.Sample {
		v := s.Value[idx]
		if v == 0 || (role != "" && tally.SampleRole(s) != role) {
			continue
		}
		total += v
		site, caller := blockingSite(tally.Frames(s))
		by[key{site, caller}] += v
	}
	out := make([]BlockingSite, 0, len(by))
	for k, v := range by {
		b := BlockingSite{Site: k.site, Caller: k.caller, OffCPUNanos: v, Share: float64(v) / float64(total)}
		if wallNanos > 0 {
			b.WallShare = float64(v) / float64(wallNanos)
		}
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.OffCPUNanos != b.OffCPUNanos {
			return a.OffCPUNanos > b.OffCPUNanos
		}
		return a.Site+" "+a.Caller < b.Site+" "+b.Caller
	})
	if n <= 0 {
		n = 10
	}
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// blockingSite returns the first frame from the leaf that is not the
// scheduler's, and its caller. A stack of scheduler frames only is its
// root-most frame; an empty stack is "[no stack]".
func blockingSite(fs []tally.Frame) (site, caller string) {
	for i, f := range fs {
		if f.Kernel && schedFrames[f.Key] {
			continue
		}
		if i+1 < len(fs) {
			caller = fs[i+1].Name
		}
		return f.Name, caller
	}
	if len(fs) == 0 {
		return "[no stack]", ""
	}
	return fs[len(fs)-1].Name, ""
}

// Wall summarizes the wall view of one step per role, in the order of
// s.Roles: times from the step's RoleSummary, or from the wall profile's
// sums when the summary has no wall time, and the top n blocking sites
// from profiles[role] (the role's wall profile; may be missing). Roles
// with neither are left out.
func Wall(s result.Step, profiles map[string]*pprof.Profile, n int) ([]WallRole, error) {
	moved := gibMoved(s)
	var out []WallRole
	for _, rs := range s.Roles {
		p := profiles[rs.Role]
		w := WallRole{Role: rs.Role, WallNanos: rs.WallNanos, OnCPUNanos: rs.OnCPUNanos, OffCPUNanos: rs.OffCPUNanos, PreemptedNanos: rs.PreemptedNanos, Wake: rs.Wake}
		if w.WallNanos <= 0 {
			if p == nil {
				continue
			}
			w.OnCPUNanos, w.OffCPUNanos = sumType(p, rs.Role, "cpu/nanoseconds"), sumType(p, rs.Role, result.OffCPUType)
			w.WallNanos, w.FromProfile = w.OnCPUNanos+w.OffCPUNanos, true
		}
		if w.WallNanos <= 0 {
			continue
		}
		w.OnCPUShare = float64(w.OnCPUNanos) / float64(w.WallNanos)
		w.OffCPUShare = float64(w.OffCPUNanos) / float64(w.WallNanos)
		w.PreemptedShare = float64(w.PreemptedNanos) / float64(w.WallNanos)
		if moved > 0 {
			w.WallNanosPerGiB = float64(w.WallNanos) / moved
			w.OnCPUNanosPerGiB = float64(w.OnCPUNanos) / moved
			w.OffCPUNanosPerGiB = float64(w.OffCPUNanos) / moved
			w.SwitchesPerGiB = float64(rs.Switches) / moved
			w.WakeupsPerGiB = float64(rs.Wakeups) / moved
			if w.Wake != nil {
				w.WakeupNanosPerGiB = float64(w.Wake.WakeupNanos) / moved
			}
		}
		if p != nil {
			b, err := blockingSites(p, rs.Role, w.WallNanos, n)
			if err != nil {
				return nil, err
			}
			w.Blocking = b
		}
		out = append(out, w)
	}
	return out, nil
}

// gibMoved is the GiB a step moved over all its runs: Bytes per run times
// the runs (len(Runs), else Repeat, else one).
func gibMoved(s result.Step) float64 {
	runs := len(s.Runs)
	if runs == 0 {
		runs = max(s.Repeat, 1)
	}
	return float64(s.Bytes) * float64(runs) / gib
}

// sumType sums one sample type over a role's samples ("" for all); 0 when
// the profile lacks the type.
func sumType(p *pprof.Profile, role, typ string) int64 {
	idx := tally.FindType(p, typ)
	if idx < 0 {
		return 0
	}
	var sum int64
	for _, s := range p.Sample {
		if role == "" || tally.SampleRole(s) == role {
			sum += s.Value[idx]
		}
	}
	return sum
}

// WallChanges compares the wall time per GiB of the roles that a and b
// (two steps' Wall results, earlier first) both have.
func WallChanges(a, b []WallRole) []WallChange {
	var out []WallChange
	for _, wb := range b {
		for _, wa := range a {
			if wa.Role != wb.Role || wa.WallNanosPerGiB == 0 {
				continue
			}
			base := wa.WallNanosPerGiB
			c := WallChange{
				Role: wb.Role, WallNanosPerGiBA: base, WallNanosPerGiBB: wb.WallNanosPerGiB,
				Removed:       (base - wb.WallNanosPerGiB) / base,
				RemovedOnCPU:  (wa.OnCPUNanosPerGiB - wb.OnCPUNanosPerGiB) / base,
				RemovedOffCPU: (wa.OffCPUNanosPerGiB - wb.OffCPUNanosPerGiB) / base,
				Sites:         siteChanges(wa, wb),
			}
			if wa.Wake != nil && wb.Wake != nil && wa.WakeupNanosPerGiB > 0 {
				c.WakeupNanosPerGiBA, c.WakeupNanosPerGiBB = wa.WakeupNanosPerGiB, wb.WakeupNanosPerGiB
				c.RemovedWakeup = (wa.WakeupNanosPerGiB - wb.WakeupNanosPerGiB) / wa.WakeupNanosPerGiB
			}
			out = append(out, c)
		}
	}
	return out
}

// siteChanges compares the blocking sites of one role in two steps, per
// GiB moved. A site listed in one step only counts as zero in the other,
// which understates it when the other step's list was cut short.
func siteChanges(a, b WallRole) []SiteChange {
	type key struct{ site, caller string }
	perGiB := func(w WallRole, ns int64) float64 {
		if w.WallNanos == 0 {
			return 0
		}
		return float64(ns) * w.WallNanosPerGiB / float64(w.WallNanos)
	}
	by := map[key]*SiteChange{}
	get := func(b BlockingSite) *SiteChange {
		k := key{b.Site, b.Caller}
		if by[k] == nil {
			by[k] = &SiteChange{Site: b.Site, Caller: b.Caller}
		}
		return by[k]
	}
	for _, x := range a.Blocking {
		get(x).OffCPUNanosPerGiBA = perGiB(a, x.OffCPUNanos)
	}
	for _, x := range b.Blocking {
		get(x).OffCPUNanosPerGiBB = perGiB(b, x.OffCPUNanos)
	}
	out := make([]SiteChange, 0, len(by))
	for _, c := range by {
		c.Removed = (c.OffCPUNanosPerGiBA - c.OffCPUNanosPerGiBB) / a.WallNanosPerGiB
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		x, y := math.Abs(out[i].Removed), math.Abs(out[j].Removed)
		if x != y {
			return x > y
		}
		return out[i].Site+" "+out[i].Caller < out[j].Site+" "+out[j].Caller
	})
	if len(out) > maxSiteChanges {
		out = out[:maxSiteChanges]
	}
	return out
}
