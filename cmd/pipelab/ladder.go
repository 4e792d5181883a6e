package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/report"
)

// ladderModes are the post's steps, in the order the post takes them.
var ladderModes = []string{"write", "vmsplice", "splice", "huge", "busy"}

func cmdLadder(ctx context.Context, env *cli, args []string) error {
	o := bench.DefaultOptions()
	o.Bytes = 512 << 20 // 6 rounds of 3 transfers a step; keeps make run under a minute on a 2-CPU VM
	o.Repeat = 6        // enough for benchmath's 95% confidence interval of the median
	pf := defaultProfileFlags()
	modes := strings.Join(ladderModes, ",")
	fs := newFlagSet("ladder", "[flags]",
		"Replay the post: profile every step in order, then write OUT/report.md (environment, throughput,\n"+
			"top kernel symbols per step and role, what changed at each transition), OUT/throughput.svg,\n"+
			"OUT/ladder.json, and per step OUT/MODE.json, OUT/MODE.{writer,reader}.pb.gz, OUT/MODE.pb.gz and\n"+
			"OUT/MODE.{writer,reader}.folded (folded stacks for flame-graph tools); report.md embeds the flame\n"+
			"graphs OUT/MODE.{writer,reader}.svg, OUT/FROM-TO.{writer,reader}.diff.svg per transition and,\n"+
			"with --view wall, OUT/MODE.{writer,reader}.offcpu.svg.\n"+
			"Every run and profile flag applies to every step.")
	fs.StringVar(&modes, "modes", modes, "comma-separated `list` of steps to run, in order: any of "+strings.Join(modeNames(), ", "))
	runFlags(fs, &o)
	addProfileFlags(fs, &pf)
	if err := fs.parse(env, args); err != nil {
		return err
	}
	if err := checkArgs(fs); err != nil {
		return err
	}
	steps, err := parseModeList(modes)
	if err != nil {
		return err
	}
	if err := pf.check(); err != nil {
		return err
	}
	for _, m := range steps {
		o.Mode = m
		if err := validate(o); err != nil {
			return err
		}
	}
	noteKeepAwake(env, o)
	if _, err := newProfiler(o.Mode, pf); err != nil {
		return err
	}
	if err := prepareOut(pf.out); err != nil {
		return err
	}
	lad := report.Ladder{Version: report.FormatVersion, Env: collectEnv()}
	var plans []*stepRuns
	for _, m := range steps {
		o.Mode = m
		sr, err := newProfiledStep(o, m, pf)
		if err != nil {
			return err
		}
		plans = append(plans, sr)
	}
	fmt.Fprintf(env.stderr, "ladder: %d rounds of %s, in a new order each round ...\n", o.Repeat, strings.Join(steps, ", "))
	runRounds(ctx, env, plans, o.Repeat) // a failure stays in its step's err
	var runErr error
	for _, sr := range plans {
		step, _, err := finishStep(sr, pf, true)
		if step != nil {
			lad.Steps = append(lad.Steps, *step)
			fmt.Fprintf(env.stderr, "ladder: %s %.2f GiB/s median\n", step.Mode, step.MedianGiBs)
		}
		if err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("ladder step %s: %w", sr.o.Mode, err))
		}
	}
	if len(lad.Steps) == 0 {
		return runErr
	}
	if err := writeLadder(pf.out, &lad); err != nil {
		return errors.Join(runErr, err)
	}
	if err := report.WriteThroughputText(env.stdout, report.Throughput(lad.Steps)); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "\nreport: %s\n", filepath.Join(pf.out, "report.md"))
	return runErr
}

// parseModeList parses --modes: known modes, comma-separated, no repeats.
func parseModeList(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, m := range strings.Split(s, ",") {
		m = strings.TrimSpace(m)
		if _, ok := bench.LookupMode(m); !ok {
			return nil, usagef("--modes: unknown mode %q (want a comma-separated list of: %s)", m, strings.Join(modeNames(), ", "))
		}
		if seen[m] {
			return nil, usagef("--modes: %s is listed twice", m)
		}
		seen[m] = true
		out = append(out, m)
	}
	return out, nil
}

// writeLadder writes ladder.json, then rebuilds report.md and
// throughput.svg from the folder, as `pipelab report` would.
func writeLadder(dir string, lad *report.Ladder) error {
	err := report.WriteFiles(dir, report.Output{Name: report.LadderFile, Write: func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(lad)
	}})
	if err != nil {
		return err
	}
	return buildReport(dir)
}

// buildReport (re)writes DIR/report.md and DIR/throughput.svg from the
// results saved in dir.
func buildReport(dir string) error {
	return report.WriteReport(dir, report.Options{})
}
