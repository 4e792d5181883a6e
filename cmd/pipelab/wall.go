package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	pprof "github.com/google/pprof/profile"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/profile"
	"github.com/pipelab/pipelab/result"
)

// addWall copies the wall view of one role into its summary and the
// profiles to write (MODE.ROLE.wall.pb.gz). It does nothing in the cpu view.
func addWall(rs *result.RoleSummary, r *profile.Role, mode string, comments []string, out map[result.Artefact]*pprof.Profile) {
	if r.Wall == nil {
		return
	}
	wall := result.Artefact{Kind: result.KindWall, Role: r.Name}
	rs.WallProfile = wall.Name(mode)
	r.Wall.Comments = append(r.Wall.Comments, comments...)
	out[wall] = r.Wall
	if r.Wake == nil || r.Wakers == nil {
		return
	}
	wakers := result.Artefact{Kind: result.KindWakers, Role: r.Name}
	rs.WakersProfile = wakers.Name(mode)
	r.Wakers.Comments = append(r.Wakers.Comments, comments...)
	out[wakers] = r.Wakers
	from := attribute.WakerSites(r.Wakers)
	for i := range rs.Wake.Wakers {
		rs.Wake.Wakers[i].From = from[rs.Wake.Wakers[i].Waker]
	}
}

// printWall prints the wall view of a step: per role, wall time split in
// on-CPU and off-CPU, switches and wake-ups per GiB, and where each role
// slept.
func printWall(out io.Writer, step *result.Step, blocking []attribute.Attribution) {
	w := out
	if step.View != "wall" {
		return
	}
	gib := float64(step.Bytes) * float64(len(step.Runs)) / (1 << 30)
	fmt.Fprintln(w, "\nwall time per role (split at the context-switch timestamps; off-CPU stacks in MODE.ROLE.wall.pb.gz)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "role\twall\ton-CPU\toff-CPU\toff%\tswitches/GiB\twake-ups/GiB\t")
	for _, r := range step.Roles {
		off := 0.0
		if r.WallNanos > 0 {
			off = 100 * float64(r.OffCPUNanos) / float64(r.WallNanos)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f%%\t%.0f\t%.0f\t\n", r.Role,
			ms(r.WallNanos), ms(r.OnCPUNanos), ms(r.OffCPUNanos), off,
			float64(r.Switches)/gib, float64(r.Wakeups)/gib)
	}
	tw.Flush()
	if ws, err := attribute.Wall(*step, nil, 0); err == nil {
		for _, wr := range ws {
			if line := attribute.WakeSentence(wr); line != "" {
				fmt.Fprintf(out, "%s %s\n", wr.Role, line)
			}
		}
	}
	for _, a := range blocking {
		fmt.Fprintf(w, "\n%s: where it blocked, by inclusive share of off-CPU time\n", a.Role)
		if err := attribute.WriteTopText(w, []attribute.Attribution{a}); err != nil {
			fmt.Fprintf(w, "  (cannot print: %v)\n", err)
		}
	}
}

// blockingSites attributes each role's off-CPU time in its wall profile
// (as stepProfiles made them) to kernel symbols. A role that cannot be
// attributed adds a warning to step.
func blockingSites(step *result.Step, profiles map[result.Artefact]*pprof.Profile, top int) []attribute.Attribution {
	var out []attribute.Attribution
	for _, r := range step.Roles {
		p := profiles[result.Artefact{Kind: result.KindWall, Role: r.Role}]
		if p == nil || r.OffCPUNanos == 0 {
			continue
		}
		as, err := attribute.Profile(p, attribute.Options{SampleType: "offcpu/nanoseconds", Top: top})
		if err != nil {
			step.Warnings = append(step.Warnings, r.Role+": blocking sites: "+err.Error())
			continue
		}
		out = append(out, as...)
	}
	return out
}

// ms formats nanoseconds as milliseconds.
func ms(ns int64) string {
	return time.Duration(ns).Round(time.Millisecond / 10).String()
}
