package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/internal/table"
	"github.com/pipelab/pipelab/result"
	"github.com/pipelab/pipelab/throughput"
)

// writeSummaryMarkdown renders s as the Markdown of report.md: title,
// environment, throughput table and chart, one section per step (the
// post's symbols, the top kernel symbols, the wall view, and what changed
// from the step before), what the samples can and cannot show, and the
// notes as footnotes.
func writeSummaryMarkdown(w io.Writer, s *summary) error {
	m := &table.MarkdownWriter{W: w}
	writeTitle(m, s)
	writeEnv(m, s.Env)
	m.Printf("## Throughput\n\n")
	if m.Err == nil {
		m.Err = throughput.WriteMarkdown(m.W, s.Throughput)
	}
	m.Printf("\n![Median GiB/s per step, min–max whiskers, the post's figures as markers](%s)\n\n", result.ChartFile)
	writeSkipped(m, s.Skipped)
	writeVerdicts(m, s)
	m.Printf("## Steps\n\n")
	m.Printf("Shares are of each role's on-CPU time as sampled by cpu-clock: **self** counts samples whose leaf is the symbol, **inclusive** those with the symbol anywhere on the stack. A post symbol is matched through the alias table; the kernel symbol column says what it is called on this kernel.\n\n")
	for i, st := range s.Steps {
		prevRuns := 0
		if i > 0 {
			prevRuns = s.Steps[i-1].Throughput.N
		}
		writeStep(m, st, prevRuns)
	}
	writeCaveats(m, s)
	if len(s.Notes) > 0 {
		m.Printf("\n")
	}
	for i, n := range s.Notes {
		steps := strings.Join(n.Steps, ", ")
		if len(n.Steps) > 1 && len(n.Steps) == len(s.Steps) {
			steps = "every step"
		}
		m.Printf("[^%d]: %s: %s\n", i+1, steps, n.Text)
	}
	return m.Err
}

func writeTitle(m *table.MarkdownWriter, s *summary) {
	m.Printf("# pipelab ladder: pipe throughput step by step\n\n")
	// The pipe steps are the post's; the others (ceilings, sockets,
	// rings) stand beside them.
	var pipes, others []string
	for _, st := range s.Steps {
		if t := st.Step.Transport; t == "" || t == "pipe" {
			pipes = append(pipes, st.Step.Mode)
		} else {
			others = append(others, "`"+st.Step.Mode+"`")
		}
	}
	where := ""
	if e := s.Env; e != nil {
		where = fmt.Sprintf(" on Linux %s, %s (%d CPUs), %s", e.Kernel, e.CPUModel, e.CPUs, e.Time.UTC().Format("2006-01-02"))
	}
	beside := ""
	if len(others) > 0 {
		beside = ", beside " + strings.Join(others, ", ")
	}
	if len(pipes) == 0 {
		m.Printf("The steps %s measured%s: throughput, where the time goes, and what each step removed. `pipelab report DIR` rebuilds this file from the folder.\n\n", strings.Join(others, ", "), where)
	} else {
		m.Printf("The steps of \"How fast are Linux pipes anyway?\" (%s) replayed%s%s: throughput, where the kernel time goes, and what each step removed. `pipelab report DIR` rebuilds this file from the folder.\n\n", strings.Join(pipes, " → "), where, beside)
	}
	if s.Unfinished != "" {
		m.Printf("**Incomplete:** %s. What follows covers the steps that have results.\n\n", s.Unfinished)
	}
	if e := s.Env; e != nil && e.Emulation != "" {
		m.Printf("**%s** (%s). The functional results stand (which steps ran, the kernel symbols and stacks); every throughput, time and share of time is the emulator's.\n\n", e.Emulation, e.EmulationEvidence)
	}
}

// writeSkipped lists the steps the ladder left out, with why.
func writeSkipped(m *table.MarkdownWriter, skipped []result.Skip) {
	if len(skipped) == 0 {
		return
	}
	m.Printf("**Left out**: %d of the steps asked for, which this machine or the options given cannot run; the others ran.\n\n", len(skipped))
	for _, sk := range skipped {
		m.Printf("- `%s`: %s.\n", sk.Mode, sk.Reason)
	}
	m.Printf("\n")
}

func writeEnv(m *table.MarkdownWriter, e *result.Env) {
	m.Printf("## Environment\n\n")
	if e == nil {
		m.Printf("Not recorded: the folder has no ladder.json (the steps come from MODE.json files).\n\n")
		return
	}
	pmu := e.PMU
	switch pmu {
	case "software only":
		pmu = "software only (no PMU: cpu-clock sampling, no hardware counters)"
	case "counts, cannot sample":
		pmu = "hardware counters that count but cannot sample (cpu-clock sampling)"
	}
	rows := [][]string{{"kernel", e.Kernel}}
	if e.Arch != "" {
		rows = append(rows, []string{"architecture", e.Arch})
	}
	if e.Emulation != "" {
		rows = append(rows, []string{"CPU emulation", e.Emulation + " (" + e.EmulationEvidence + ")"})
	}
	m.Table("ll", []string{"setting", "value"}, append(rows, [][]string{
		{"CPU model", e.CPUModel},
		{"CPUs", strconv.Itoa(e.CPUs)},
		{"transparent huge pages", e.THP},
		{"perf events", pmu},
		{"kernel.perf_event_paranoid", strconv.Itoa(e.PerfEventParanoid)},
		{"kernel.kptr_restrict", strconv.Itoa(e.KptrRestrict)},
		{"fs.pipe-max-size", result.SizeName(int64(e.PipeMaxSize))},
		{"Go", e.GoVersion},
		{"date", e.Time.UTC().Format("2006-01-02 15:04 UTC")},
	}...))
}

func writeStep(m *table.MarkdownWriter, st stepSummary, prevRuns int) {
	s := st.Step
	m.Printf("### %s — %s GiB/s\n\n", s.Mode, table.GiBs(float64(s.MedianGiBs)))
	m.Printf("%s.%s\n\n", settings(s), noteRefs(st.Notes))
	if s.Event != "" {
		why := ""
		if s.EventReason != "" {
			why = " (" + s.EventReason + ")"
		}
		m.Printf("Sampled event: `%s`%s.\n\n", s.Event, why)
	}
	switch {
	case s.Cost != nil:
		m.Printf("Throughput from the unprofiled transfers; %s.\n\n", s.Cost.Line())
	case len(s.Runs) == 0:
	case s.ThroughputFrom == result.FromProfiled:
		m.Printf("Throughput from the profiled transfers (--no-baseline; the cost of profiling was not measured).\n\n")
	case s.ThroughputFrom == result.FromProfiledStopped:
		m.Printf("Throughput from the profiled transfers: the run stopped before an unprofiled one ran (the cost of profiling was not measured).\n\n")
	}
	if c := ceilingWords[s.Ceiling]; c != "" {
		m.Printf("**Ceiling**: %s. The throughput table gives every step's share of it.\n\n", c)
	}
	if v := st.Verdict; v != nil {
		m.Printf("**The post's bottleneck**: %s — “%s”. **%s**: %s.\n\n", v.Claim.Bottleneck, v.Claim.Words, v.Outcome(), v.MarkdownFigures())
	}
	if st.Attribution == nil {
		m.Printf("No kernel attribution for this step (no CPU profile with kernel frames in the folder).\n\n")
	}
	writeDerived(m, st.Derived)
	writeFlames(m, "Flame graphs of on-CPU time, per role (kernel frames orange, user frames green)", st.Flames)
	for _, a := range st.Attribution {
		writeRoleAttribution(m, a)
	}
	if st.Wall != nil {
		writeWall(m, st.Wall)
	}
	writeFlames(m, "Flame graphs of off-CPU time, per role: the stacks at switch-out, sized by the time until each ran again", st.OffCPUFlames)
	if st.Prev != "" {
		writeTransition(m, st, prevRuns)
	}
}

// settings says what a step ran: bytes, runs, buffer, pipe, pinning,
// knobs.
func settings(s result.Step) string {
	runs := "runs"
	if len(s.Runs) == 1 {
		runs = "run"
	}
	parts := []string{fmt.Sprintf("%s per run × %d %s", result.SizeName(s.Bytes), len(s.Runs), runs)}
	if s.BufSize > 0 {
		b := result.SizeName(s.BufSize) + " buffer"
		if s.BufOffset > 0 {
			b += fmt.Sprintf(" at page offset %d", s.BufOffset)
		}
		parts = append(parts, b)
	}
	if s.PipeSize > 0 {
		parts = append(parts, result.SizeName(s.PipeSize)+" pipe")
	}
	parts = append(parts, side(s, "writer", s.WriterCmd, s.PinWriter), side(s, "reader", s.ReaderCmd, s.PinReader))
	for _, k := range []struct {
		on   bool
		name string
	}{{s.Busy, "busy loop"}, {s.Poll, "poll"}, {s.Huge, "huge pages"}, {s.Gift, "gift"}, {s.LockMemory, "locked memory"}, {s.DontTouchPages, "pages not touched"}, {s.SameBuffer, "same buffer"}, {s.KeepCPUsAwake, "CPUs kept awake (--keep-cpus-awake)"}} {
		if k.on {
			parts = append(parts, k.name)
		}
	}
	if s.View != "" {
		parts = append(parts, s.View+" view")
	}
	return strings.Join(parts, ", ")
}

// side says who took one side of a step and where: a command, pipelab's
// strategy (when the other side was a command), or just the CPU.
func side(s result.Step, role, cmd string, cpu int) string {
	switch {
	case cmd != "":
		return fmt.Sprintf("%s `%s` %s", role, cmd, cpuName(cpu))
	case s.WriterCmd != "" || s.ReaderCmd != "":
		return fmt.Sprintf("%s pipelab's %s %s", role, s.Strategy, cpuName(cpu))
	}
	return role + " " + cpuName(cpu)
}

func cpuName(cpu int) string {
	if cpu < 0 {
		return "unpinned"
	}
	return "on CPU " + strconv.Itoa(cpu)
}

func noteRefs(ns []int) string {
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, "[^%d]", n)
	}
	return b.String()
}

func writeRoleAttribution(m *table.MarkdownWriter, a attribute.Attribution) {
	m.Printf("**%s** — %d samples, %s on CPU; %s of it ends on irq-enable points.\n\n", a.Role, a.Samples, table.Value(a.Total, a.SampleType), table.Percent(a.IRQEnableSelf))
	var post [][]string
	for _, r := range a.Post {
		if r.Cum > 0 {
			post = append(post, []string{table.Code(r.Post), table.Code(r.Symbol), table.Percent(r.SelfShare), table.Percent(r.CumShare)})
		}
	}
	if len(post) == 0 {
		m.Printf("None of the post's symbols is on its stacks.\n\n")
	} else {
		m.Table("llrr", []string{"post symbol", "kernel symbol", "self", "inclusive"}, post)
	}
	var top [][]string
	for _, r := range a.Top {
		top = append(top, []string{table.Code(r.Symbol), table.Percent(r.SelfShare), table.Percent(r.CumShare)})
	}
	if len(top) > 0 {
		m.Printf("Top kernel symbols by inclusive share (syscall entry frames left out):\n\n")
		m.Table("lrr", []string{"kernel symbol", "self", "inclusive"}, top)
	}
}

func writeWall(m *table.MarkdownWriter, ws []attribute.WallRole) {
	m.Printf("**Wall time** — on-CPU vs off-CPU (asleep, or runnable and waiting for a CPU):\n\n")
	preempted := false
	for _, w := range ws {
		preempted = preempted || w.PreemptedNanos > 0
	}
	header := []string{"role", "wall", "on-CPU", "off-CPU", "wall per GiB", "context switches per GiB", "wake-ups per GiB"}
	if preempted {
		header = append(header[:4], append([]string{"of which preempted"}, header[4:]...)...)
	}
	var rows [][]string
	for _, w := range ws {
		row := []string{w.Role, table.Nanos(float64(w.WallNanos)), table.Nanos(float64(w.OnCPUNanos)) + " (" + table.Percent(w.OnCPUShare) + ")",
			table.Nanos(float64(w.OffCPUNanos)) + " (" + table.Percent(w.OffCPUShare) + ")", table.Nanos(w.WallNanosPerGiB), table.PerGiB(w.SwitchesPerGiB), table.PerGiB(w.WakeupsPerGiB)}
		if preempted {
			row = append(row[:4], append([]string{table.Nanos(float64(w.PreemptedNanos)) + " (" + table.Percent(w.PreemptedShare) + ")"}, row[4:]...)...)
		}
		rows = append(rows, row)
	}
	m.Table("l"+strings.Repeat("r", len(header)-1), header, rows)
	for _, w := range ws {
		if line := attribute.WakeSentence(w); line != "" {
			m.Printf("- %s %s (waiting %s, wake-up %s; wakers in `MODE.%s.wakers.pb.gz`).\n", w.Role, line,
				table.Nanos(float64(w.Wake.WaitingNanos)), table.Nanos(float64(w.Wake.WakeupNanos)), w.Role)
		}
	}
	if ws != nil && ws[0].Wake != nil {
		m.Printf("\n")
	}
	for _, w := range ws {
		if len(w.Blocking) == 0 {
			continue
		}
		m.Printf("Top blocking sites of the %s (the stack at switch-out, charged with the time until it ran again):\n\n", w.Role)
		var rows [][]string
		for i, b := range w.Blocking {
			if i == maxBlockingSites {
				break
			}
			rows = append(rows, []string{table.Code(b.Site), table.Code(b.Caller), table.Nanos(float64(b.OffCPUNanos)), table.Percent(b.Share), table.Percent(b.WallShare)})
		}
		m.Table("llrrr", []string{"blocking site", "called from", "off-CPU", "share of off-CPU", "share of wall"}, rows)
	}
}

func writeTransition(m *table.MarkdownWriter, st stepSummary, prevRuns int) {
	m.Printf("#### What changed from %s to %s\n\n", st.Prev, st.Step.Mode)
	if r := st.Throughput; r.VsPrev != 0 {
		m.Printf("Median throughput %s → %s GiB/s: %s", table.GiBs(r.Median/r.VsPrev), table.GiBs(r.Median), table.Speedup(r.VsPrev))
		switch {
		case r.DeltaPrev == "":
		case r.FewRuns:
			m.Printf(", too few runs (%d and %d) to test the change: a U-test needs %d per step", prevRuns, r.N, throughput.MinRunsForTest)
		case r.DeltaPrev == "~":
			m.Printf(", no significant change (p=%.3f, Mann-Whitney U over the runs)", r.P)
		default:
			m.Printf(", %s", throughput.DeltaCell(r))
		}
		m.Printf(".\n\n")
	}
	writeFlames(m, fmt.Sprintf("Differential flame graphs, per role: %s's stacks, red where a function's inclusive share of the role grew from %s, blue where it shrank, and beneath them the functions only %s had", st.Step.Mode, st.Prev, st.Prev), st.DiffFlames)
	for _, c := range st.WallChange {
		more := "less"
		if c.Removed < 0 {
			more = "more"
		}
		m.Printf("- %s: wall time per GiB %s → %s, %s %s (on-CPU %s, off-CPU %s of the %s wall time).\n",
			c.Role, table.Nanos(c.WallNanosPerGiBA), table.Nanos(c.WallNanosPerGiBB), table.Percent(math.Abs(c.Removed)), more, table.Points(-c.RemovedOnCPU), table.Points(-c.RemovedOffCPU), st.Prev)
		var sites []string
		for _, x := range c.Sites {
			sites = append(sites, fmt.Sprintf("%s %s (%s → %s per GiB)", blockingName(x.Site, x.Caller), table.Points(-x.Removed), table.Nanos(x.OffCPUNanosPerGiBA), table.Nanos(x.OffCPUNanosPerGiBB)))
		}
		if len(sites) > 0 {
			m.Printf("  Blocking sites that changed most: %s.\n", strings.Join(sites, "; "))
		}
		if c.WakeupNanosPerGiBA > 0 {
			verb := "removed"
			if c.RemovedWakeup < 0 {
				verb = "added"
			}
			m.Printf("  Wake-up latency per GiB %s → %s: the step %s %s of it.\n",
				table.Nanos(c.WakeupNanosPerGiBA), table.Nanos(c.WakeupNanosPerGiBB), verb, table.Percent(math.Abs(c.RemovedWakeup)))
		}
	}
	if len(st.WallChange) > 0 {
		m.Printf("\n")
	}
	if st.Diff == nil {
		m.Printf("No symbol diff: one of the two steps has no CPU profile with kernel frames.\n\n")
		return
	}
	m.Printf("Kernel symbols whose inclusive share changed most (%s → %s):\n\n", st.Prev, st.Step.Mode)
	for _, d := range st.Diff {
		m.Printf("**%s** — %d → %d samples.\n\n", d.Role, d.SamplesA, d.SamplesB)
		var rows [][]string
		for _, r := range d.Rows {
			rows = append(rows, []string{table.Code(r.Symbol), table.Code(r.Post), table.Percent(r.CumA), table.Percent(r.CumB), table.Points(r.DeltaCum), table.Percent(r.SelfA), table.Percent(r.SelfB)})
		}
		m.Table("llrrrrr", []string{"kernel symbol", "post symbol", "inclusive " + st.Prev, "inclusive " + st.Step.Mode, "change", "self " + st.Prev, "self " + st.Step.Mode}, rows)
	}
}

func writeCaveats(m *table.MarkdownWriter, s *summary) {
	m.Printf("## What these samples can and cannot show\n\n")
	switch {
	case s.ArmCycles:
		m.Printf("- **Sampled event.** Steps sampled with `cycles` used the hardware cycle counter, whose overflow interrupt on arm64 is an ordinary interrupt (no pseudo-NMI unless the kernel boots with irqchip.gicv3_pseudo_nmi=1): held back while interrupts are off, it skews onto irq-enable points like the cpu-clock timer.\n")
	case s.Cycles:
		m.Printf("- **Sampled event.** Steps sampled with `cycles` used the hardware cycle counter, whose overflow interrupt (an NMI on x86) is not held back while interrupts are off: their self times are where the CPU was.\n")
	}
	if s.CPUClock || s.ArmCycles {
		writeIRQCaveat(m, s)
	}
	if s.Lost == 0 {
		m.Printf("- **Lost samples.** None: the kernel dropped none of the %d samples.\n", s.Samples)
	} else {
		m.Printf("- **Lost samples.** The kernel dropped %d of %d samples (%s) when a ring filled; they stay in the profiles as a `[lost]` frame and the notes say where. Shares are of what was recorded.\n", s.Lost, s.Lost+s.Samples, table.Percent(float64(s.Lost)/float64(s.Lost+s.Samples)))
	}
	m.Printf("- **Blocking time.** A CPU profile samples a task only while it runs: time asleep in `pipe_wait_writable`, `pipe_wait_readable` or `wait_for_space`, and the wake-up latency after it, is invisible in the shares above, which is why a blocking step can be slow while its profile looks like a fast one.")
	if s.HasWall {
		m.Printf(" The wall time tables come from the wall view, which records every switch-out with its stack and weighs it by the time until the task ran again (asleep, then waiting for a CPU after the wake-up), so on-CPU plus off-CPU should add up to the wall time; a note flags any role where they differ by more than 5%%.\n")
	} else {
		m.Printf(" These steps ran without the wall view; `pipelab ladder --view wall` records switch-outs and time asleep and adds the on-CPU vs off-CPU split and the blocking sites to this report.\n")
	}
}

// blockingName renders a blocking site as "`site` ← `caller`".
func blockingName(site, caller string) string {
	if caller == "" {
		return table.Code(site)
	}
	return table.Code(site) + " ← " + table.Code(caller)
}

// maxBlockingSites bounds the blocking sites listed per role.
const maxBlockingSites = 5

// writeIRQCaveat is the caveat of cpu-clock samples: they skew onto
// irq-enable points.
func writeIRQCaveat(m *table.MarkdownWriter, s *summary) {
	sw := s.Env != nil && s.Env.PMU == "software only"
	lead, irq := "pipelab samples the software cpu-clock event.", "timer interrupt"
	switch {
	case s.ArmCycles && s.CPUClock:
		lead, irq = "The steps that say `cpu-clock` sampled the software timer event, and the `cycles` ones arm64's ordinary overflow interrupt.", "interrupt"
	case s.ArmCycles:
		lead, irq = "The steps sampled arm64's cycle counter, whose overflow is an ordinary interrupt.", "interrupt"
	case s.Cycles:
		lead = "The steps that say `cpu-clock` sampled the software timer event."
	}
	m.Printf("- **Self time on irq-enable points.** %s Its %s cannot fire while interrupts are off, so a sample due inside an irq-off section lands at the point where interrupts come back on", lead, irq)
	if sw {
		m.Printf(" (this machine has no PMU, so there is no NMI-based event to avoid it)")
	}
	m.Printf(". Self time piles up there")
	if len(s.IRQEnable) > 0 {
		var seen []string
		for i, p := range s.IRQEnable {
			if i == maxIRQPoints {
				seen = append(seen, fmt.Sprintf("and %d more below 5%%", len(s.IRQEnable)-i))
				break
			}
			if i >= 3 && p.Share < 0.05 {
				seen = append(seen, fmt.Sprintf("and %d more below 5%%", len(s.IRQEnable)-i))
				break
			}
			where := table.Code(p.Symbol)
			if p.Via != "" {
				where += " under " + table.Code(p.Via)
			}
			seen = append(seen, fmt.Sprintf("%s (up to %s of the %s's on-CPU time in %s)", where, table.Percent(p.Share), p.Role, p.Mode))
		}
		m.Printf("; seen here: %s", strings.Join(seen, ", "))
	} else {
		m.Printf("; none of the known points (%s) was a leaf here", "`_raw_spin_unlock_irqrestore`, `pvm_irq_enable`, ...")
	}
	m.Printf(". Read self shares of those symbols as time spent in the irq-off section that ends there; the **inclusive** share of a named caller (e.g. `anon_pipe_write`) stays trustworthy.\n")
}

// maxIRQPoints bounds the irq-enable points the caveats name.
const maxIRQPoints = 6

// writeVerdicts writes the table of the post's claims checked against the
// steps that have one.
func writeVerdicts(m *table.MarkdownWriter, s *summary) {
	var rows [][]string
	for _, st := range s.Steps {
		if v := st.Verdict; v != nil {
			rows = append(rows, []string{"`" + st.Step.Mode + "`", v.Claim.Bottleneck, "**" + v.Outcome() + "**", v.MarkdownFigures()})
		}
	}
	if len(rows) == 0 {
		return
	}
	m.Printf("## Verdicts\n\n")
	m.Printf("What the post names as each step's bottleneck, checked against this run's writer profile: a claim holds when its functions take at least %s of the time in the syscall the post looked at (at most %s for the busy loop's sleeping); one whose interval holds that share is not told by the samples. The interval is the sampling error alone.\n\n", table.ShortPercent(attribute.MinClaimShare), table.ShortPercent(attribute.MaxAbsentShare))
	m.Table("llll", []string{"step", "the post's bottleneck", "verdict", "figures"}, rows)
}

// writeDerived lists the figures derived from the step's samples.
func writeDerived(m *table.MarkdownWriter, ds []attribute.Derived) {
	if len(ds) == 0 {
		return
	}
	m.Printf("**Derived from the samples** — inclusive sampled time over what the profiled transfers moved; the interval is the sampling error alone:\n\n")
	for _, d := range ds {
		m.Printf("- %s: %s.\n", d.Text(table.Code), d.About)
	}
	m.Printf("\n")
}

// ceilingWords say what each ceiling a step may measure is
// (result.Ceiling).
var ceilingWords = map[string]string{
	result.CeilingCopy: "one core's memory copy of a buffer it has in cache, with no transport at all: the most any reader that must have the bytes in its memory can take",
	result.CeilingRing: "a shared-memory ring between two processes whose sides spin instead of sleeping: the fastest way measured here for one process to hand another its bytes (of several such steps, the fastest is the ceiling)",
}
