package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/result"
	"github.com/pipelab/pipelab/throughput"
)

// outputFormat is how run prints its results.
type outputFormat struct{ json, csv bool }

func cmdRun(ctx context.Context, env *cli, args []string) error {
	o := bench.DefaultOptions()
	o.Mode = "write"
	fs := newFlagSet("run", "[flags]",
		"Measure the throughput of one strategy (or --mode all), like ./write | ./read in the post.\n"+
			"With --mode all every round runs each mode once, in a new random order (as the post's measure.py).\n"+
			"The writer and the reader are two processes joined by one pipe; the reader times the transfer.\n"+
			"Prints median, min and max GiB/s (GiB = 2^30 bytes) over --repeat runs.")
	fs.StringVar(&o.Mode, "mode", o.Mode, "strategy: "+strings.Join(modeNames(), ", ")+", or all")
	runFlags(fs, &o)
	var cf commandFlags
	addCommandFlags(fs, &cf)
	var out outputFormat
	var noBaseline bool
	fs.BoolVar(&noBaseline, "no-baseline", false, "(profile and ladder only) refused here: every transfer of run is unprofiled")
	fs.BoolVar(&out.json, "json", false, "print one JSON object per mode instead of the table")
	fs.BoolVar(&out.csv, "csv", false, "print CSV with the post's measure.py columns first, in its order (name, gibibytes_per_second, ...), then run and buf_offset")
	if err := fs.parse(env, args); err != nil {
		return err
	}
	if err := checkArgs(fs); err != nil {
		return err
	}
	if noBaseline {
		return usagef("run: --no-baseline: run profiles nothing, so every transfer it makes is the baseline (the flag is for profile and ladder)")
	}
	if out.json && out.csv {
		return usagef("run: --json and --csv exclude each other (pick one)")
	}
	modes, err := selectModes(o.Mode)
	if err != nil {
		return err
	}
	name, err := cf.resolve(fs.FlagSet, &o)
	if err != nil {
		return err
	}
	if len(modes) > 1 && (name != o.Mode || o.WriterCmd != "" || o.ReaderCmd != "") {
		return usagef("--mode all: runs every mode, so it takes no --name, --writer-cmd or --reader-cmd (give one --mode)")
	}
	for _, m := range modes {
		o.Mode = m
		if err := validate(o); err != nil {
			return err
		}
	}
	noteKeepAwake(env, o)
	var plans []*stepRuns
	for _, m := range modes {
		o.Mode = m
		sr := newStepRuns(o, nil, false)
		if len(modes) == 1 {
			sr.name = name
		}
		plans = append(plans, sr)
	}
	runRounds(ctx, env, plans, o.Repeat) // a failure stays in its step's err
	var steps []result.Step
	var failures []error // each step's
	var runErr error
	for _, sr := range plans {
		if res := sr.res[unprofiled]; res != nil {
			step := stepFromResult(res, sr.err)
			step.Repeat = o.Repeat
			labelStep(&step, sr.name, res)
			steps, failures = append(steps, step), append(failures, sr.err)
		}
		if sr.err != nil {
			runErr = fmt.Errorf("run %s: %w", runLabel(sr.name, sr.o), sr.err)
		}
	}
	if anyRuns(steps) || (out.json || out.csv) && len(steps) > 0 {
		if err := printSteps(env, steps, out); err != nil {
			return err
		}
	}
	for i, s := range steps {
		printCommands(env, s, failures[i])
		s.Warnings = withoutFailure(s.Warnings, failures[i])
		printWarnings(env, s)
	}
	if runErr == nil {
		runErr = verifyError(steps)
	}
	return runErr
}

// anyRuns reports whether a step has a complete run: a table of steps
// that have none would say nothing.
func anyRuns(steps []result.Step) bool {
	for _, s := range steps {
		if len(s.Runs) > 0 {
			return true
		}
	}
	return false
}

// runLabel names a run in an error: "--mode write", or its label when a
// command or --name sets one.
func runLabel(label string, o bench.Options) string {
	if label == o.Mode && o.WriterCmd == "" && o.ReaderCmd == "" {
		return "--mode " + label
	}
	return label
}

// printWarnings puts a step's warnings, and what --verify found, on
// stderr (results stay alone on stdout).
func printWarnings(env *cli, s result.Step) {
	for _, w := range append(s.Warnings, sharedLines(&s)...) {
		fmt.Fprintf(env.stderr, "pipelab: %s: warning: %s\n", s.Mode, w)
	}
	if !s.Verify || s.Interrupted || s.Incomplete {
		return
	}
	switch {
	case len(s.CorruptOffsets) > 0 && !s.RewriteAfterSplice:
		// verifyError says it, as the command's error.
	case len(s.CorruptOffsets) == 0:
		fmt.Fprintf(env.stderr, "pipelab: %s: --verify: the reader checked every byte of %d run(s): all as written\n", s.Mode, len(s.Runs))
	case s.RewriteAfterSplice:
		fmt.Fprintf(env.stderr, "pipelab: %s: --rewrite-after-splice: the reader got bytes the writer wrote after vmsplice returned in %d of %d run(s) (first wrong offset of each: %s): vmsplice without SPLICE_F_GIFT hands the pipe references to the writer's pages, not copies\n",
			s.Mode, len(s.CorruptOffsets), len(s.Runs), offsetList(s.CorruptOffsets))
	}
}

// verifyError fails the command when --verify found wrong bytes that the
// vmsplice-reuse experiment did not ask for.
func verifyError(steps []result.Step) error {
	for _, s := range steps {
		if len(s.CorruptOffsets) > 0 && !s.RewriteAfterSplice {
			return fmt.Errorf("run --mode %s: --verify: the reader got wrong bytes in %d of %d run(s) (first wrong offset of each: %s)",
				s.Mode, len(s.CorruptOffsets), len(s.Runs), offsetList(s.CorruptOffsets))
		}
	}
	return nil
}

func offsetList(offs []int64) string {
	var b strings.Builder
	for i, o := range offs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, o)
	}
	return b.String()
}

// printSteps writes steps on stdout as a table, JSON lines or CSV.
func printSteps(env *cli, steps []result.Step, out outputFormat) error {
	switch {
	case out.json:
		return result.WriteSteps(env.stdout, steps)
	case out.csv:
		return throughput.WriteCSV(env.stdout, steps)
	default:
		return throughput.WriteText(env.stdout, throughput.Rows(steps))
	}
}

// selectModes expands --mode: one name, or "all" for every mode in order.
func selectModes(mode string) ([]string, error) {
	if mode == "all" {
		return modeNames(), nil
	}
	if _, ok := bench.LookupMode(mode); !ok {
		return nil, usagef("--mode %s: unknown mode (want one of: %s, all)", mode, strings.Join(modeNames(), ", "))
	}
	return []string{mode}, nil
}

func modeNames() []string {
	var names []string
	for _, m := range bench.Modes() {
		names = append(names, m.Name)
	}
	return names
}

// progressPrinter shows bytes moved and the current rate on stderr, only
// when stderr is a terminal.
func progressPrinter(env *cli, mode string, o bench.Options) func(bench.Progress) {
	if !env.stderrTTY {
		return nil
	}
	var last time.Time
	return func(p bench.Progress) {
		if time.Since(last) < 200*time.Millisecond && p.Bytes < o.Bytes {
			return
		}
		last = time.Now()
		rate := 0.0
		if p.Elapsed > 0 {
			rate = float64(p.Bytes) / (1 << 30) / p.Elapsed.Seconds()
		}
		fmt.Fprintf(env.stderr, "\r\033[K%s run %d/%d: %s of %s, %.2f GiB/s", mode, p.Run, o.Repeat,
			bench.FormatSize(p.Bytes), bench.FormatSize(o.Bytes), rate)
		if p.Bytes >= o.Bytes && p.Run >= o.Repeat {
			fmt.Fprint(env.stderr, "\r\033[K")
		}
	}
}
