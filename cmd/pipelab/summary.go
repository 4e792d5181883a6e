package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/result"
)

// stepFromResult turns a bench result into the step schema report reads
// and writes. runErr marks the step incomplete or interrupted.
func stepFromResult(res *bench.Result, runErr error) result.Step {
	s := result.Step{
		Version:     result.FormatVersion,
		Settings:    settings(res.Options.Effective()), // the knobs as the children ran them
		Runs:        []float64{},                       // [] in the JSON, not null, when no run has a figure
		Warnings:    warningLines(res.Warnings),
		Incomplete:  res.Incomplete,
		Interrupted: res.Interrupted || errors.Is(runErr, bench.ErrInterrupted),
	}
	for _, r := range res.Shared {
		s.Shared = append(s.Shared, result.SharedRun{PID: r.PID, Command: r.Command, CPUs: r.CPUs})
	}
	if c := res.Corruption(); c != nil {
		s.CorruptOffsets = c.Offsets
	}
	for _, r := range res.Runs {
		if r.Writer.PipeSizeBytes > 0 {
			s.PipeSize = int64(r.Writer.PipeSizeBytes) // what the kernel really set
		}
		if !r.Partial && !r.Uncounted { // a run of unknown throughput has no figure
			s.Runs = append(s.Runs, r.GiBPerSec)
		}
	}
	if len(s.Runs) > 0 {
		med, lo, hi := res.GiBPerSec()
		s.MedianGiBs, s.MinGiBs, s.MaxGiBs = result.GiBs(med), result.GiBs(lo), result.GiBs(hi)
	}
	if runErr != nil && !s.Interrupted {
		s.Incomplete = true
		s.Warnings = append(s.Warnings, message(runErr))
	}
	return s
}

// settings copies bench's options into the step's saved settings: the one
// place a new knob of bench.Options reaches the result files. A step of a
// ceiling mode (bench.Mode.Ceiling) measures that ceiling unless its
// reader consumed: a consuming copy or ring is a step like any other.
func settings(o bench.Options) result.Settings {
	m, _ := bench.LookupMode(o.Mode)
	ceiling := m.Ceiling
	if o.Consume || o.WriterCmd != "" || o.ReaderCmd != "" {
		ceiling = ""
	}
	return result.Settings{
		Transport: m.Transport, Ceiling: ceiling,
		Mode: o.Mode, Bytes: o.Bytes, BufSize: int64(o.BufSizeBytes), PipeSize: int64(o.PipeSizeBytes),
		Busy: o.Busy, Poll: o.Poll, Huge: o.Huge, CheckHuge: o.CheckHuge, Gift: o.Gift,
		LockMemory: o.LockMemory, DontTouchPages: o.DontTouchPages, SameBuffer: o.SameBuffer, BufOffset: o.BufOffset,
		PinWriter: o.PinWriter, PinReader: o.PinReader, Repeat: o.Repeat, Verify: o.Verify,
		RewriteAfterSplice: o.RewriteAfterSplice, KeepCPUsAwake: o.KeepCPUsAwake,
		Consume: o.Consume, RingSize: int64(o.RingSize()), Streaming: o.Streaming,
	}
}

// printProfileSummary prints what a user checks after `pipelab profile`:
// throughput, counters per role side by side and per GiB moved, samples,
// the top kernel functions of each role, and the post's verdict on the
// step checked against them. failure, the run's error, is not repeated
// among the warnings: the command prints it.
func printProfileSummary(w io.Writer, step *result.Step, tops stepTops, failure error) {
	fmt.Fprintf(w, "%s: %s, %d run(s) of %s\n", step.Mode, medianWords(step), len(step.Runs), bench.FormatSize(step.Bytes))
	if step.Env != nil && step.Env.Emulation != "" {
		fmt.Fprintln(w, step.Env.Emulation)
	}
	printSources(w, step)
	if step.Interrupted {
		fmt.Fprintln(w, "INTERRUPTED: figures cover the runs that finished")
	} else if step.Incomplete {
		fmt.Fprintln(w, "INCOMPLETE: a writer or reader failed; figures cover what was collected")
	}
	fmt.Fprintln(w)
	printCounters(w, step)
	for _, a := range tops.cpu {
		fmt.Fprintf(w, "\n%s: top kernel functions by inclusive share of %s (%d samples)\n", a.Role, a.SampleType, a.Samples)
		if err := attribute.WriteTopText(w, []attribute.Attribution{a}); err != nil {
			fmt.Fprintf(w, "  (cannot print: %v)\n", err)
		}
	}
	if v := tops.verdict; v != nil {
		fmt.Fprintf(w, "\nthe post's bottleneck for %s: %s (%q)\n  verdict: %s\n", step.Mode, v.Claim.Bottleneck, v.Claim.PlainWords(), v.Sentence())
	}
	if len(tops.derived) > 0 {
		fmt.Fprintln(w, "\nderived from the samples (inclusive sampled time over what the profiled transfers moved; 95% sampling interval):")
		for _, d := range tops.derived {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
	printWall(w, step, tops.blocking)
	if ws := append(withoutFailure(step.Warnings, failure), sharedLines(step)...); len(ws) > 0 {
		fmt.Fprintln(w, "\nwarnings:")
		for _, m := range ws {
			fmt.Fprintf(w, "  - %s\n", m)
		}
	}
}

// sharedLines says, one line each, which other pipelab runs shared the
// step's CPUs.
func sharedLines(step *result.Step) []string {
	var lines []string
	for _, r := range step.Shared {
		lines = append(lines, r.String())
	}
	return lines
}

// medianWords is the step's throughput in words: "3.21 GiB/s median
// (min 3.10, max 3.30)", or that no run finished, when it has no figure.
func medianWords(step *result.Step) string {
	if len(step.Runs) == 0 {
		return "no run finished: throughput unknown"
	}
	return fmt.Sprintf("%.2f GiB/s median (min %.2f, max %.2f)", step.MedianGiBs, step.MinGiBs, step.MaxGiBs)
}

// printSources says which transfers each figure came from, and what
// profiling cost.
func printSources(w io.Writer, step *result.Step) {
	if step.Event != "" {
		fmt.Fprintf(w, "sampled %s", step.Event)
		if step.EventReason != "" {
			fmt.Fprintf(w, " (%s)", step.EventReason)
		}
		fmt.Fprintln(w)
	}
	switch {
	case len(step.Runs) == 0:
		// No transfer finished: there is no throughput to source.
	case step.ThroughputFrom == result.FromUnprofiled:
		fmt.Fprintf(w, "throughput from the unprofiled transfers, interleaved with as many profiled ones\n")
	case step.ThroughputFrom == result.FromProfiled:
		fmt.Fprintf(w, "throughput from the profiled transfers (--no-baseline: profiling cost not measured)\n")
	case step.ThroughputFrom == result.FromProfiledStopped:
		fmt.Fprintf(w, "throughput from the profiled transfers: the run stopped before an unprofiled one ran (profiling cost not measured)\n")
	}
	if step.Cost != nil {
		fmt.Fprint(w, step.Cost.Line())
		if step.Cost.TooFewRuns() {
			fmt.Fprintf(w, "; --repeat %d gives %d+%d", result.MinCostRuns, result.MinCostRuns, result.MinCostRuns)
		}
		if step.View == "wall" {
			fmt.Fprint(w, "; the wall view hooks every context switch of the children (a sample and two switch records each), which this includes")
		}
		fmt.Fprintln(w)
	}
	if len(step.Roles) > 0 && step.Roles[0].CountedRuns > 0 {
		if step.View == "wall" {
			fmt.Fprintf(w, "counters from the %d profiled transfer(s) (the wall view's switch events hook every switch anyway)\n", step.Roles[0].CountedRuns)
		} else if ob := step.Cost; ob != nil && ob.CountedRuns > 0 {
			fmt.Fprintf(w, "counters from %d counted transfer(s) of their own, %.2f GiB/s median (per-thread counters slow the context switches; the sampled transfers carry none)\n", ob.CountedRuns, ob.CountedMedianGiBs)
		} else {
			fmt.Fprintf(w, "counters from %d counted transfer(s) of their own (the sampled transfers carry none)\n", step.Roles[0].CountedRuns)
		}
	}
}

// printCounters prints the counter table: one row per counter, one value
// column per role, then the same per GiB moved.
func printCounters(w io.Writer, step *result.Step) {
	if len(step.Roles) == 0 {
		return
	}
	gib := float64(step.Bytes) * float64(step.Roles[0].CountedRuns) / (1 << 30)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "counter\t")
	for _, r := range step.Roles {
		fmt.Fprintf(tw, "%s\t", r.Role)
	}
	for _, r := range step.Roles {
		fmt.Fprintf(tw, "%s/GiB\t", r.Role)
	}
	fmt.Fprintln(tw)
	for i, c := range step.Roles[0].Counters {
		name := c.Name
		if name == "task-clock" {
			name = "task-clock (ms)"
		}
		fmt.Fprintf(tw, "%s\t", name)
		if !c.Supported {
			fmt.Fprintln(tw, "not supported here\t")
			continue
		}
		for _, r := range step.Roles {
			fmt.Fprintf(tw, "%s\t", counterText(r.Counters[i]))
		}
		for _, r := range step.Roles {
			fmt.Fprintf(tw, "%s\t", perGiB(r.Counters[i], gib))
		}
		fmt.Fprintln(tw)
	}
	printPerByte(tw, step.Roles)
	fmt.Fprint(tw, "samples\t")
	for _, r := range step.Roles {
		fmt.Fprintf(tw, "%d\t", r.Samples)
	}
	fmt.Fprintln(tw)
	fmt.Fprint(tw, "lost samples\t")
	for _, r := range step.Roles {
		fmt.Fprintf(tw, "%d\t", r.Lost)
	}
	fmt.Fprintln(tw)
	tw.Flush()
}

// printPerByte adds to the counter table the hardware counters per byte
// moved, where the PMU counted them (cycles/byte, instructions/byte), and
// instructions per cycle where it counted both.
func printPerByte(w io.Writer, roles []result.RoleSummary) {
	for _, name := range []string{"cycles", "instructions"} {
		if c := counterNamed(roles[0].Counters, name); c == nil || c.PerByte == 0 {
			continue
		}
		fmt.Fprintf(w, "%s/byte\t", name)
		for _, r := range roles {
			fmt.Fprintf(w, "%.2f\t", counterNamed(r.Counters, name).PerByte)
		}
		fmt.Fprintln(w)
	}
	if cy, in := counterNamed(roles[0].Counters, "cycles"), counterNamed(roles[0].Counters, "instructions"); cy == nil || in == nil || cy.PerByte == 0 || in.PerByte == 0 {
		return
	}
	fmt.Fprint(w, "instructions/cycle\t")
	for _, r := range roles {
		fmt.Fprintf(w, "%.2f\t", counterNamed(r.Counters, "instructions").Value/counterNamed(r.Counters, "cycles").Value)
	}
	fmt.Fprintln(w)
}

// counterNamed returns the counter of cs named name, or nil.
func counterNamed(cs []result.Counter, name string) *result.Counter {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

func counterText(c result.Counter) string {
	if c.Name == "task-clock" {
		return fmt.Sprintf("%.1f", c.Value/1e6)
	}
	return fmt.Sprintf("%.0f", c.Value)
}

func perGiB(c result.Counter, gib float64) string {
	if gib <= 0 {
		return "-"
	}
	if c.Name == "task-clock" {
		return fmt.Sprintf("%.2f", c.Value/1e6/gib)
	}
	return fmt.Sprintf("%.1f", c.Value/gib)
}
