package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	pprof "github.com/google/pprof/profile"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/flame"
	"github.com/pipelab/pipelab/internal/table"
	"github.com/pipelab/pipelab/profile"
	"github.com/pipelab/pipelab/result"
)

// profileFlags are the flags profile and ladder add to the run knobs.
type profileFlags struct {
	freq       int
	out        string
	view       string
	top        int
	noBaseline bool
	event      string
	replace    bool
	samples    int
}

func addProfileFlags(fs *flagSet, pf *profileFlags) {
	fs.IntVar(&pf.freq, "freq", pf.freq, "cpu-clock sampling frequency in `Hz` (at most /proc/sys/kernel/perf_event_max_sample_rate)")
	fs.StringVar(&pf.out, "out", pf.out, "`dir`ectory for the pprof profiles, JSON and reports (created if missing)")
	fs.StringVar(&pf.view, "view", pf.view, "`view`: cpu (cpu-clock samples) or wall (cpu plus off-CPU time at each blocking stack)")
	fs.IntVar(&pf.top, "top", pf.top, "how many kernel functions to list per role in the summary")
	fs.StringVar(&pf.event, "event", pf.event, "sampled `event`: cycles (hardware, NMI-driven; needs a PMU) or cpu-clock (software timer; skews onto irq-enable points); default cycles where a PMU exists, else cpu-clock")
	fs.IntVar(&pf.samples, "samples", pf.samples, "at least `N` samples per role over a step's profiled transfers: a calibration transfer tells how fast each role takes samples,\nthe transfers grow past --bytes until they should give N, and a step still short runs up to 2 more rounds\n(0: sized by --bytes alone; the ladder's default is 1000 unless --bytes is given)")
	fs.BoolVar(&pf.noBaseline, "no-baseline", pf.noBaseline, "run no unprofiled transfers between the profiled ones: throughput then comes from the profiled transfers and the cost of profiling is not measured")
	fs.BoolVar(&pf.replace, "replace", false, "replace the results --out holds (another ladder's; for a ladder, any), all of them, before the run")
}

// check checks the profile flags fs parsed. A --freq left at its default
// above kernel.perf_event_max_sample_rate, which the kernel lowers when
// its perf interrupts take too long (an emulated CPU, a slow PMU), comes
// down to that rate with a note on stderr rather than refusing the run.
func (pf *profileFlags) check(env *cli, fs *flag.FlagSet) error {
	if !setFlags(fs)["freq"] {
		if max, err := maxSampleRate(); err == nil && max >= 1 && max < pf.freq {
			fmt.Fprintf(env.stderr, "--freq: sampling at %d Hz, kernel.perf_event_max_sample_rate, below the default %d Hz (the kernel lowers the limit when its perf interrupts take too long)\n", max, pf.freq)
			pf.freq = max
		}
	}
	if pf.view != "cpu" && pf.view != "wall" {
		return usagef("--view %s: unknown view (want cpu or wall)", pf.view)
	}
	if pf.top < 1 {
		return usagef("--top %d: must be at least 1", pf.top)
	}
	if pf.samples < 0 {
		return usagef("--samples %d: must be 0 (size by --bytes alone) or more", pf.samples)
	}
	if pf.out == "" {
		return usagef("--out: must name a directory")
	}
	return nil
}

// maxSampleRate is profile.MaxSampleRate; a variable so tests can give
// check any kernel's limit.
var maxSampleRate = profile.MaxSampleRate

func defaultProfileFlags() profileFlags {
	return profileFlags{freq: 999, out: "pipelab-out", view: "cpu", top: 12}
}

func cmdProfile(ctx context.Context, env *cli, args []string) error {
	o := bench.DefaultOptions()
	o.Mode = "write"
	o.Repeat = 1
	pf := defaultProfileFlags()
	fs := newFlagSet("profile", "[flags]",
		"Run one strategy while counting and sampling the writer and the reader with perf_event_open.\n"+
			"Writes OUT/MODE.writer.pb.gz, OUT/MODE.reader.pb.gz, OUT/MODE.pb.gz (both roles, label role)\n"+
			"and OUT/MODE.json, then prints throughput, counters per role and the top kernel functions.\n"+
			"Open the profiles with: go tool pprof -top OUT/MODE.writer.pb.gz\n"+
			"                        go tool pprof -tagroot=role -top OUT/MODE.pb.gz")
	fs.StringVar(&o.Mode, "mode", o.Mode, "strategy: "+strings.Join(modeNames(), ", "))
	runFlags(fs, &o)
	addProfileFlags(fs, &pf)
	var cf commandFlags
	addCommandFlags(fs, &cf)
	var af attachFlags
	addAttachFlags(fs, &af)
	if err := fs.parse(env, args); err != nil {
		return err
	}
	if err := checkArgs(fs); err != nil {
		return err
	}
	if af.pids != "" {
		return profileAttach(ctx, env, fs.FlagSet, af, cf, pf)
	}
	if af.duration != 0 {
		return usagef("--duration %s: is the window of --attach (add --attach W,R, or drop it)", af.duration)
	}
	name, err := cf.resolve(fs.FlagSet, &o)
	if err != nil {
		return err
	}
	if _, err := selectModes(o.Mode); err != nil || o.Mode == "all" {
		if o.Mode == "all" {
			return usagef("--mode all: profile takes one mode (use pipelab ladder for several)")
		}
		return err
	}
	if err := pf.check(env, fs.FlagSet); err != nil {
		return err
	}
	if err := validate(o); err != nil {
		return err
	}
	noteKeepAwake(env, o)
	if err := claimOut(pf, name); err != nil {
		return err
	}
	sr, err := newProfiledStep(o, name, pf)
	if err != nil {
		return err
	}
	if err := sizeSteps(ctx, env, []*stepRuns{sr}, pf, o.Repeat); err != nil {
		return err
	}
	runRounds(ctx, env, []*stepRuns{sr}, o.Repeat) // a failure stays in sr.err
	if ctx.Err() == nil {
		topUp(ctx, env, []*stepRuns{sr})
	}
	step, tops, err := finishStep(sr, pf, false)
	if step != nil {
		printProfileSummary(env.stdout, step, tops, sr.err)
		printCommands(env, *step, sr.err)
		if saved(err) {
			fmt.Fprintf(env.stderr, "wrote %s\n", strings.Join(stepFiles(pf.out, step), " "))
		}
	}
	return err
}

// saved reports whether finishStep, returning err with a step, wrote the
// step's files.
func saved(err error) bool {
	var ns *noSamplesError
	return !errors.As(err, &ns)
}

// prepareOut creates dir and proves it is writable, so a bad --out fails
// before anything runs.
func prepareOut(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usagef("--out %s: %v (choose a writable directory)", dir, unwrapPath(err))
	}
	f, err := os.CreateTemp(dir, ".pipelab-probe-*")
	if err != nil {
		return usagef("--out %s: cannot write there: %v (choose a writable directory)", dir, unwrapPath(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// claimOut prepares pf.out for the results of a ladder (step "") or of
// one profiled step, so that it never holds half another run's results
// and half this one's. A ladder takes the whole folder: one that holds
// results is refused unless --replace, which removes them first. A lone
// step joins a folder of lone steps, replacing all its own files if it
// was there; a ladder's folder is refused unless --replace.
func claimOut(pf profileFlags, step string) error {
	if err := prepareOut(pf.out); err != nil {
		return err
	}
	held, ok := result.HasResults(pf.out)
	_, err := os.Stat(filepath.Join(pf.out, result.LadderFile))
	ladder := err == nil
	if ok && !pf.replace && (step == "" || ladder) {
		what, mix := "the results of another run", "this ladder's results would mix with them"
		if ladder {
			what, held = "the results of a ladder", result.LadderFile
		}
		if step != "" {
			mix = "this profile's results would mix with them"
		}
		return usagef("--out %s: holds %s (%s); %s (choose another folder, or add --replace to replace them)",
			pf.out, what, filepath.Join(pf.out, held), mix)
	}
	if ok && (step == "" || ladder) {
		return outError(result.Clear(pf.out))
	}
	return outError(result.ClearStep(pf.out, step))
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// newProfiler opens a profiler for o's mode and turns a bad --freq,
// --view or --event into a usage error that names the flag.
func newProfiler(name string, pf profileFlags) (*profile.Profiler, error) {
	p, err := profile.New(profile.Config{FreqHz: pf.freq, Mode: name, View: pf.view, Event: pf.event})
	if err != nil {
		return nil, usageOf(err)
	}
	return p, nil
}

// stepTops are the top kernel functions of a profiled step, per role: by
// cpu-clock time, and by off-CPU time in the wall view.
type stepTops struct {
	cpu, blocking []attribute.Attribution
	// verdict checks the post's claim about the step; nil when it makes none.
	verdict *attribute.Verdict
	// derived are the figures worked out from the samples.
	derived []attribute.Derived
	// empty says which roles took no sample, why and what to do, one
	// line each (emptyRoles); the step's warnings hold them too.
	empty []string
}

// newProfiledStep plans the transfers of one profiled step of o's mode.
func newProfiledStep(o bench.Options, name string, pf profileFlags) (*stepRuns, error) {
	p, err := newProfiler(name, pf)
	if err != nil {
		return nil, err
	}
	sr := newStepRuns(o, p, pf.noBaseline)
	sr.name = name
	return sr, nil
}

// finishStep builds the step from the transfers sr ran and writes its
// files into pf.out: throughput from the unprofiled transfers (the
// profiled ones under --no-baseline), profiles from the profiled ones,
// counters from the counted ones. It returns the step (also when the runs
// failed part way, marked so) and the attribution of each role's profile.
func finishStep(sr *stepRuns, pf profileFlags, folded bool) (*result.Step, stepTops, error) {
	runErr := sr.err
	res, from := sr.throughput()
	if res == nil || sr.res[profiled] == nil {
		return nil, stepTops{}, runErr
	}
	step := stepFromResult(res, runErr)
	step.Repeat = sr.o.Repeat
	step.ThroughputFrom = from
	step.Cost = sr.cost()
	for _, r := range sr.res {
		if r != nil && r != res {
			for _, w := range warningLines(r.Warnings) {
				if !slices.Contains(step.Warnings, w) {
					step.Warnings = append(step.Warnings, w)
				}
			}
		}
	}
	machine := collectEnv()
	step.Env = &machine
	labelStep(&step, sr.name, res)
	pr := sr.p.Result()
	if !attached(pr) {
		// Nothing was profiled (perf_event_open refused outright): write
		// no empty profile that looks like a result.
		return nil, stepTops{}, runErr
	}
	step.Warnings = append(step.Warnings, pr.Warnings...)
	step.Event, step.EventReason = pr.Event, pr.EventReason
	profiles, err := stepProfiles(&step, pr)
	if err != nil {
		return nil, stepTops{}, errors.Join(runErr, err)
	}
	var tops stepTops
	if runErr == nil { // else the failure says why samples are missing
		tops.empty, err = emptyRoles(&step, sr, pr, pf.freq)
		if err != nil {
			return &step, stepTops{}, err
		}
		step.Warnings = append(step.Warnings, tops.empty...)
	}
	if sr.samples > 0 {
		step.Warnings = append(step.Warnings, samplesWarnings(&step, sr.o, sr.samples)...)
	}
	var more []result.Output
	if both := profiles[result.Artefact{Kind: result.KindProfile}]; folded && both != nil {
		more = flame.FoldedOutputs(&step, both)
	}
	if err := result.SaveStep(pf.out, &step, profiles, more...); err != nil {
		return &step, stepTops{}, errors.Join(runErr, err)
	}
	tops.cpu, err = attribute.Profile(profiles[result.Artefact{Kind: result.KindProfile}], attribute.Options{Top: pf.top})
	if err != nil {
		step.Warnings = append(step.Warnings, "attribution: "+err.Error())
	}
	if err == nil {
		tops.verdict = attribute.CheckClaim(step.Mode, profiles[result.Artefact{Kind: result.KindProfile}], attribute.Options{Event: step.SampledEvent(), Arch: runtime.GOARCH})
		tops.derived = attribute.Derive(step, profiles[result.Artefact{Kind: result.KindProfile}])
	}
	tops.blocking = blockingSites(&step, profiles, pf.top)
	return &step, tops, runErr
}

// stepProfiles fills step.Roles from the profiler's result and returns the
// profiles to write, with comments that carry the run's settings,
// throughput and counters.
func stepProfiles(step *result.Step, pr *profile.Result) (map[result.Artefact]*pprof.Profile, error) {
	comments := stepComments(step)
	out := map[result.Artefact]*pprof.Profile{}
	step.View = pr.View
	for i, rs := range pr.Summaries() {
		r := pr.Roles[i]
		rs.Profile = result.ProfileFile(step.Mode, r.Name)
		rs.SetPerByte(step.Bytes)
		addWall(&rs, r, step.Mode, comments, out)
		step.Roles = append(step.Roles, rs)
		r.Profile.Comments = append(r.Profile.Comments, comments...)
		out[result.Artefact{Kind: result.KindProfile, Role: r.Name}] = r.Profile
	}
	both, err := pr.Combined()
	if err != nil {
		return nil, fmt.Errorf("combine writer and reader profiles: %w", err)
	}
	both.Comments = append(both.Comments, comments...)
	out[result.Artefact{Kind: result.KindProfile}] = both
	return out, nil
}

// stepComments are the pprof comments a step adds to what the profiler
// wrote (role, sampling, kernel, counters): throughput and settings, which
// `go tool pprof -comments` shows.
func stepComments(step *result.Step) []string {
	cs := []string{
		fmt.Sprintf("pipelab %s: %.2f GiB/s median (min %.2f, max %.2f) over %d %s run(s) of %s",
			step.Mode, step.MedianGiBs, step.MinGiBs, step.MaxGiBs, len(step.Runs), step.ThroughputFrom, bench.FormatSize(step.Bytes)),
		fmt.Sprintf("settings: buf-size=%s buf-offset=%d pipe-size=%s busy=%t poll=%t huge=%t check-huge=%t gift=%t lock-memory=%t dont-touch-pages=%t same-buffer=%t pin=%d,%d repeat=%d verify=%t",
			bench.FormatSize(step.BufSize), step.BufOffset, bench.FormatSize(step.PipeSize), step.Busy, step.Poll, step.Huge, step.CheckHuge, step.Gift,
			step.LockMemory, step.DontTouchPages, step.SameBuffer, step.PinWriter, step.PinReader, step.Repeat, step.Verify),
	}
	if step.Cost != nil {
		cs = append(cs, step.Cost.Line())
	}
	return cs
}

// stepFiles lists the files a profiled step wrote, for the user.
func stepFiles(dir string, step *result.Step) []string {
	files := []string{filepath.Join(dir, result.ProfileFile(step.Mode, ""))}
	for _, r := range step.Roles {
		files = append(files, filepath.Join(dir, r.Profile))
		if r.WallProfile != "" {
			files = append(files, filepath.Join(dir, r.WallProfile))
		}
		if r.WakersProfile != "" {
			files = append(files, filepath.Join(dir, r.WakersProfile))
		}
	}
	return append(files, filepath.Join(dir, result.StepFile(step.Mode)))
}

// attached reports whether the profiler got onto any child at all.
func attached(pr *profile.Result) bool {
	for _, r := range pr.Roles {
		if len(r.PIDs) > 0 {
			return true
		}
	}
	return false
}

// noSamplesError is a step none of whose roles took a sample: the
// profile asked for was not made, and no file of the step was written.
type noSamplesError struct{ msg string }

func (e *noSamplesError) Error() string { return e.msg }

// emptyRoles says, one line per role of step that took no sample, why
// as far as pipelab knows (the kernel dropped them all, sampling of user
// space only, transfers or on-CPU time shorter than a sampling period)
// and what to do; a role that is not expected to take samples (a copy
// mode's writer, see sized) is left out. When no role took a sample, or
// recorded off-CPU time in the wall view, it returns instead one
// *noSamplesError that says the same.
func emptyRoles(step *result.Step, sr *stepRuns, pr *profile.Result, freq int) ([]string, error) {
	type why struct{ role, cause, remedy string }
	var empty []why
	anyData := false
	for _, r := range step.Roles {
		anyData = anyData || r.Samples > 0 || r.OffCPUNanos > 0
		if r.Samples > 0 || !sized(sr.o, r.Role) {
			continue
		}
		causes, remedies := noSamplesCauses(r, sr, pr, freq)
		empty = append(empty, why{r.Role, strings.Join(causes, ", and "), strings.Join(remedies, "; and ")})
	}
	if anyData || len(empty) == 0 {
		var lines []string
		for _, e := range empty {
			lines = append(lines, fmt.Sprintf("%s: no samples: %s; %s", e.role, e.cause, e.remedy))
		}
		return lines, nil
	}
	same := true
	var roles, each []string
	for _, e := range empty {
		same = same && e.cause == empty[0].cause && e.remedy == empty[0].remedy
		roles = append(roles, "the "+e.role)
		each = append(each, fmt.Sprintf("the %s (%s; %s)", e.role, e.cause, e.remedy))
	}
	if same {
		return nil, &noSamplesError{fmt.Sprintf("no samples in %s: %s; %s; no profile written", strings.Join(roles, " or "), empty[0].cause, empty[0].remedy)}
	}
	return nil, &noSamplesError{fmt.Sprintf("no samples in %s; no profile written", strings.Join(each, " or "))}
}

// noSamplesCauses are the reasons pipelab knows why role r of a step
// took no sample, and their remedies.
func noSamplesCauses(r result.RoleSummary, sr *stepRuns, pr *profile.Result, freq int) (causes, remedies []string) {
	period := float64(time.Second) / float64(freq)
	if r.Lost > 0 {
		causes = append(causes, fmt.Sprintf("the kernel dropped all %d of them (lost samples)", r.Lost))
		remedies = append(remedies, "lower --freq, or raise kernel.perf_event_mlock_kb")
	}
	if pr.UserOnly {
		setting := "kernel.perf_event_paranoid"
		if n, err := profile.Paranoid(); err == nil {
			setting = fmt.Sprintf("%s=%d", setting, n)
		}
		causes = append(causes, fmt.Sprintf("sampling user space only (%s keeps the kernel side from users without CAP_PERFMON) misses the time spent in the kernel, where a pipe's work is", setting))
		remedies = append(remedies, "run as root, set kernel.perf_event_paranoid to 1 or lower, or grant CAP_PERFMON")
	}
	short := "raise --bytes or --freq, or let --samples 1000 size the transfers"
	var took time.Duration // the profiled transfers', gate to last byte
	runs := 0
	if res := sr.res[profiled]; res != nil {
		for _, run := range res.Runs {
			took += run.Duration
		}
		runs = len(res.Runs)
	}
	tc := counterNamed(r.Counters, "task-clock")
	switch {
	case runs > 0 && float64(took) < period:
		causes = append(causes, fmt.Sprintf("the profiled transfers took less than one sampling period (%s at --freq %d)", table.Nanos(period), freq))
		remedies = append(remedies, short)
	case tc != nil && tc.Supported && r.CountedRuns > 0 && tc.Value/float64(r.CountedRuns)*float64(runs) < period:
		causes = append(causes, fmt.Sprintf("the time on a CPU over the profiled transfers (by the task-clock counter) was under one sampling period (%s at --freq %d)", table.Nanos(period), freq))
		remedies = append(remedies, short)
	}
	if len(causes) == 0 {
		causes = append(causes, "for no reason pipelab can tell")
		remedies = append(remedies, "pipelab doctor says what this machine allows; "+short)
	}
	return causes, remedies
}
