package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/result"
	"github.com/pipelab/pipelab/throughput"
)

// ladderLists are the step lists --modes takes by name. post, the
// default, is the post's steps in its order, then the ceilings beside
// them (docs/ceiling.md): one core's memory copy and the busy ring, with
// and without streaming stores. consume sets each of the post's steps
// beside its consuming variant, then the other transports and the
// ceilings, consuming and not.
var ladderLists = []struct {
	name  string
	steps []string
}{
	{"post", []string{"write", "vmsplice", "splice", "huge", "busy", "copy", "ring-busy", "ring-busy+streaming"}},
	{"consume", []string{
		"write", "write+consume", "vmsplice", "vmsplice+consume", "splice", "splice+consume",
		"huge", "huge+consume", "busy", "busy+consume",
		"socket+consume", "ring+consume", "ring+streaming+consume", "ring-busy+consume", "ring-busy+streaming+consume",
		"copy+consume", "copy-dram+consume", "copy", "ring-busy", "ring-busy+streaming"}},
}

// stepKnobs are the knobs a step of --modes may add to its mode with +:
// write+consume is mode write run with --consume.
var stepKnobs = []string{"consume", "streaming"}

func cmdLadder(ctx context.Context, env *cli, args []string) error {
	o := bench.DefaultOptions()
	o.Bytes = 512 << 20 // 6 rounds of 3 transfers a step; keeps make run under a minute on a 2-CPU VM
	o.Repeat = 6        // enough for benchmath's 95% confidence interval of the median
	pf := defaultProfileFlags()
	pf.samples = 1000 // each verdict on 1000 samples per role at least, unless --bytes says otherwise
	modes := ladderLists[0].name
	fs := newFlagSet("ladder", "[flags]",
		"Replay the post: profile every step in order, then write OUT/report.md (environment, throughput,\n"+
			"top kernel symbols per step and role, what changed at each transition), OUT/throughput.svg,\n"+
			"OUT/ladder.json, and per step OUT/MODE.json, OUT/MODE.{writer,reader}.pb.gz, OUT/MODE.pb.gz and\n"+
			"OUT/MODE.{writer,reader}.folded (folded stacks for flame-graph tools); report.md embeds the flame\n"+
			"graphs OUT/MODE.{writer,reader}.svg, OUT/FROM-TO.{writer,reader}.diff.svg per transition and,\n"+
			"with --view wall, OUT/MODE.{writer,reader}.offcpu.svg.\n"+
			"Every run and profile flag applies to every step.\n"+
			"By default the ladder is the post's steps, then the ceilings beside them (one core's memory copy and the\n"+
			"busy shared-memory ring, whose medians ladder.json keeps as its ceilings; report.md gives each step's share\n"+
			"of them); --modes consume sets each of the post's steps beside its consuming variant (MODE+consume).\n"+
			"--writer-cmd or --reader-cmd (or both) adds your own program as one more step, named by --name\n"+
			"(default: its program's name) and placed where --modes lists that name (default: last); pipelab's\n"+
			"side of it is --mode's strategy, and its throughput is measured there, as in pipelab profile:\n"+
			"  pipelab ladder --modes write,dd,busy --writer-cmd 'dd if=/dev/zero bs=256k status=none' --mode splice")
	fs.StringVar(&modes, "modes", modes, "comma-separated `list` of steps to run, in order: any of "+strings.Join(modeNames(), ", ")+",\n"+
		"each alone or with knobs added as MODE+"+strings.Join(stepKnobs, ", MODE+")+" (write+consume is write run with --consume),\n"+
		"and the --name of the --writer-cmd/--reader-cmd step; or the name of a list:\n"+ladderListsHelp())
	runFlags(fs, &o)
	addProfileFlags(fs, &pf)
	var cf commandFlags
	extMode := "write"
	addLadderCommandFlags(fs, &cf, &extMode)
	if err := fs.parse(env, args); err != nil {
		return err
	}
	if err := checkArgs(fs); err != nil {
		return err
	}
	ext, extName, err := ladderCommandStep(fs.FlagSet, cf, extMode, o)
	if err != nil {
		return err
	}
	steps, err := parseModeList(modes, extName)
	if err != nil {
		return err
	}
	if err := folderNames(steps, extName, setFlags(fs.FlagSet)["name"]); err != nil {
		return err
	}
	if err := pf.check(env, fs.FlagSet); err != nil {
		return err
	}
	if set := setFlags(fs.FlagSet); set["bytes"] && !set["samples"] {
		pf.samples = 0 // the size asked for, as asked
	}
	steps, skipped, err := runnableSteps(steps, extName, o, isLadderList(modes))
	if err != nil {
		return err
	}
	noteKeepAwake(env, o)
	if _, err := newProfiler(o.Mode, pf); err != nil {
		return err
	}
	if err := claimOut(pf, ""); err != nil {
		return err
	}
	// ladder.json says running until the end, so that a folder whose
	// pipelab was killed says so (result.Folder.Unfinished).
	lad := result.Ladder{Version: result.FormatVersion, Env: collectEnv(), Planned: steps, Status: result.StatusRunning, Skipped: skipped}
	for _, sk := range skipped {
		fmt.Fprintf(env.stderr, "ladder: %s left out: %s\n", sk.Mode, sk.Reason)
	}
	if err := result.SaveLadder(pf.out, &lad); err != nil {
		return outError(err)
	}
	var plans []*stepRuns
	for _, m := range steps {
		so, _ := stepOptions(m, o) // checked by runnableSteps
		if m == extName {
			so = ext
		}
		sr, err := newProfiledStep(so, m, pf)
		if err != nil {
			return err
		}
		plans = append(plans, sr)
	}
	if err := sizeSteps(ctx, env, plans, pf, o.Repeat); err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "ladder: %d rounds of %s, in a new order each round ...\n", o.Repeat, strings.Join(steps, ", "))
	runRounds(ctx, env, plans, o.Repeat) // a failure stays in its step's err
	if ctx.Err() == nil {
		topUp(ctx, env, plans)
	}
	var runErr error
	sharedSeen := map[int]bool{}
	for _, sr := range plans {
		step, tops, err := finishStep(sr, pf, true)
		if step != nil && saved(err) {
			lad.Steps = append(lad.Steps, *step)
			fmt.Fprintf(env.stderr, "ladder: %s %s\n", step.Mode, medianWords(step))
			for _, line := range tops.empty {
				fmt.Fprintf(env.stderr, "pipelab: %s: warning: %s\n", step.Mode, line)
			}
			printCommands(env, *step, sr.err)
			for _, r := range step.Shared {
				if !sharedSeen[r.PID] { // each step saves it; say it once
					sharedSeen[r.PID] = true
					fmt.Fprintf(env.stderr, "pipelab: %s: warning: %s\n", step.Mode, r)
				}
			}
		}
		if err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("ladder step %s: %w", sr.name, err))
		}
	}
	lad.Ceilings = result.Ceilings(lad.Steps)
	switch {
	case ctx.Err() != nil:
		lad.Status = result.StatusInterrupted
	case runErr != nil:
		lad.Status = result.StatusFailed
	default:
		lad.Status = ""
	}
	writeErr := result.SaveLadder(pf.out, &lad)
	if writeErr == nil && len(lad.Steps) > 0 {
		writeErr = buildReport(pf.out)
	}
	if len(lad.Steps) > 0 { // the figures are known, whatever could be written
		if err := throughput.WriteText(env.stdout, throughput.Rows(lad.Steps)); err != nil {
			return err
		}
		if len(skipped) > 0 {
			var modes []string
			for _, sk := range skipped {
				modes = append(modes, sk.Mode)
			}
			fmt.Fprintf(env.stdout, "\nleft out: %s (report.md says why)\n", strings.Join(modes, ", "))
		}
		if writeErr == nil {
			fmt.Fprintf(env.stdout, "\nreport: %s\n", filepath.Join(pf.out, result.ReportFile))
		}
	}
	return errors.Join(runErr, outError(writeErr))
}

// runnableSteps checks every step of steps with o's knobs: a step this
// machine cannot run at all (bench.Supported: a huge-page step without
// transparent huge pages) is left out with its reason, one the options
// make invalid is a usage error. In a list of ladderLists (listed), a
// step of another transport than the pipe that a pipe's knob makes
// invalid (--pipe-size for copy) is left out with its reason instead:
// the user asked for the pipe steps with that knob, and the ceilings
// are of no pipe. ext, the command step, was checked by
// ladderCommandStep. When no step is left, the usage error names each
// step's reason on one line.
func runnableSteps(steps []string, ext string, o bench.Options, listed bool) (run []string, skipped []result.Skip, err error) {
	for _, m := range steps {
		if m == ext {
			run = append(run, m)
			continue
		}
		o, err := stepOptions(m, o)
		if err != nil {
			return nil, nil, err
		}
		var ue *bench.UnsupportedError
		if err := bench.Supported(o); errors.As(err, &ue) {
			skipped = append(skipped, result.Skip{Mode: m, Reason: err.Error()})
			continue
		}
		if err := validate(o); err != nil {
			if mode, _ := bench.LookupMode(o.Mode); listed && mode.Transport != "pipe" {
				skipped = append(skipped, result.Skip{Mode: m, Reason: message(err)})
				continue
			}
			if strings.Contains(m, "+") {
				return nil, nil, usagef("--modes %s: %s", m, message(err))
			}
			return nil, nil, err
		}
		run = append(run, m)
	}
	if len(run) == 0 {
		return nil, nil, usagef("ladder: no step can run on this machine: %s", skipReasons(skipped))
	}
	return run, skipped, nil
}

// skipReasons says why each step was left out, steps with one reason
// together: "huge, busy: needs transparent huge pages, ...".
func skipReasons(skipped []result.Skip) string {
	var reasons []string
	modes := map[string][]string{}
	for _, sk := range skipped {
		if modes[sk.Reason] == nil {
			reasons = append(reasons, sk.Reason)
		}
		modes[sk.Reason] = append(modes[sk.Reason], sk.Mode)
	}
	var out []string
	for _, r := range reasons {
		out = append(out, strings.Join(modes[r], ", ")+": "+r)
	}
	return strings.Join(out, "; ")
}

// ladderList returns the steps of the list of ladderLists named name.
func ladderList(name string) ([]string, bool) {
	for _, l := range ladderLists {
		if name == l.name {
			return l.steps, true
		}
	}
	return nil, false
}

// isLadderList reports whether --modes names a list of ladderLists.
func isLadderList(modes string) bool {
	_, ok := ladderList(modes)
	return ok
}

// parseModeList parses --modes: the name of a list of ladderLists, or
// steps (modes, with knobs added as MODE+KNOB) and ext (the name of the
// command step; "" when there is none), comma-separated, no repeats. ext
// goes last when the list does not name it.
func parseModeList(s, ext string) ([]string, error) {
	if steps, ok := ladderList(s); ok {
		s = strings.Join(steps, ",")
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range strings.Split(s, ",") {
		m = strings.TrimSpace(m)
		if m != ext || ext == "" {
			if err := checkStep(m, ext); err != nil {
				return nil, err
			}
		}
		if seen[m] {
			return nil, usagef("--modes: %s is listed twice", m)
		}
		seen[m] = true
		out = append(out, m)
	}
	if ext != "" && !seen[ext] {
		out = append(out, ext)
	}
	return out, nil
}

// checkStep checks one step of --modes: a mode, then knobs of stepKnobs,
// each once, joined by +.
func checkStep(step, ext string) error {
	mode, knobs, _ := strings.Cut(step, "+")
	if _, ok := bench.LookupMode(mode); !ok {
		want := strings.Join(modeNames(), ", ")
		if ext != "" {
			return usagef("--modes: unknown step %q (want a comma-separated list of: %s, %s)", step, want, ext)
		}
		return usagef("--modes: unknown mode %q (want a comma-separated list of: %s)", step, want)
	}
	seen := map[string]bool{}
	for _, k := range strings.Split(knobs, "+") {
		switch {
		case knobs == "":
		case !slices.Contains(stepKnobs, k):
			return usagef("--modes: %s: unknown knob %q (a step is a mode with any of +%s added)", step, k, strings.Join(stepKnobs, ", +"))
		case seen[k]:
			return usagef("--modes: %s: +%s is added twice", step, k)
		}
		seen[k] = true
	}
	return nil
}

// stepOptions are o for the step of --modes called step: its mode, and
// the knobs it adds set.
func stepOptions(step string, o bench.Options) (bench.Options, error) {
	if err := checkStep(step, ""); err != nil {
		return o, err
	}
	mode, knobs, _ := strings.Cut(step, "+")
	o.Mode = mode
	for _, k := range strings.Split(knobs, "+") {
		switch k {
		case "consume":
			o.Consume = true
		case "streaming":
			o.Streaming = true
		}
	}
	return o, nil
}

// ladderListsHelp lists ladderLists for --help, one per line.
func ladderListsHelp() string {
	var lines []string
	for _, l := range ladderLists {
		lines = append(lines, "  "+l.name+": "+strings.Join(l.steps, ","))
	}
	return strings.Join(lines, "\n")
}

// addLadderCommandFlags adds the flags of the ladder's command step:
// --writer-cmd, --reader-cmd and --name as profile has them, and --mode,
// the strategy of pipelab's side of that step.
func addLadderCommandFlags(fs *flagSet, cf *commandFlags, mode *string) {
	fs.StringVar(&cf.writer, "writer-cmd", "", "shell `command` (run with /bin/sh -c) whose stdout is the write end, as one more step of the\n"+
		"ladder; pipelab's reader (of --mode) stops it after --bytes, closing the pipe (SIGPIPE/EPIPE)")
	fs.StringVar(&cf.reader, "reader-cmd", "", "shell `command` whose stdin is the read end, as one more step of the ladder (or, with\n"+
		"--writer-cmd, the same step's reader); pipelab's writer (of --mode) writes --bytes and closes the pipe")
	fs.StringVar(&cf.name, "name", "", "`label` of the --writer-cmd/--reader-cmd step: its mode label, its files OUT/NAME.*, its name in\n"+
		"--modes and report.md (default: the program name of the writer command, else of the reader command)")
	fs.StringVar(mode, "mode", *mode, "`strategy` of pipelab's own side of the --writer-cmd/--reader-cmd step: "+strings.Join(modeNames(), ", "))
}

// ladderCommandStep checks the command step's flags and returns its
// options (o with the commands and --mode) and name; name is "" without a
// command.
func ladderCommandStep(fs *flag.FlagSet, cf commandFlags, mode string, o bench.Options) (bench.Options, string, error) {
	set := setFlags(fs)
	if !set["writer-cmd"] && !set["reader-cmd"] {
		switch {
		case set["name"]:
			return o, "", usagef("--name %s: labels the ladder's step of --writer-cmd or --reader-cmd (add one, or drop --name)", cf.name)
		case set["mode"]:
			return o, "", usagef("--mode %s: is the strategy of pipelab's side of the step of --writer-cmd or --reader-cmd (add one; the built-in steps are --modes)", mode)
		}
		return o, "", nil
	}
	if _, ok := bench.LookupMode(mode); !ok {
		return o, "", usagef("--mode %s: unknown mode (want one of: %s)", mode, strings.Join(modeNames(), ", "))
	}
	o.Mode = mode
	name, err := cf.resolve(fs, &o)
	if err != nil {
		return o, "", err
	}
	if _, ok := bench.LookupMode(name); ok {
		if set["name"] {
			return o, "", usagef("--name %s: is a built-in step of the ladder (its files OUT/%s.* would be taken for that step's; choose another name)", name, name)
		}
		return o, "", usagef("--writer-cmd/--reader-cmd: the step is named %s after its program, as a built-in step is (give it another with --name)", name)
	}
	if err := validate(o); err != nil {
		return o, "", err
	}
	return o, name, nil
}
