package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/profile"
)

// attachFlags are --attach W,R and --duration D of pipelab profile: two
// processes that already run, watched for a window.
type attachFlags struct {
	pids     string
	duration time.Duration
}

func addAttachFlags(fs *flagSet, af *attachFlags) {
	fs.StringVar(&af.pids, "attach", "", "profile two running processes, the writer's and the reader's `W,R` pids, every thread, for --duration")
	fs.DurationVar(&af.duration, "duration", 0, "how long --attach watches (e.g. 10s); a process that exits ends the window early")
}

// parsePids reads --attach's W,R.
func parsePids(s string) (w, r int, err error) {
	ws, rs, ok := strings.Cut(s, ",")
	w, err1 := strconv.Atoi(strings.TrimSpace(ws))
	r, err2 := strconv.Atoi(strings.TrimSpace(rs))
	if !ok || err1 != nil || err2 != nil || strings.Count(s, ",") != 1 {
		return 0, 0, usagef("--attach %s: not W,R (the writer's and the reader's pids, such as 4242,4243)", s)
	}
	return w, r, nil
}

// profileAttach is pipelab profile --attach: the profiler attaches to two
// running processes for the window, and the step is written as any other.
func profileAttach(ctx context.Context, env *cli, fs *flag.FlagSet, af attachFlags, cf commandFlags, pf profileFlags) error {
	w, r, err := parsePids(af.pids)
	if err != nil {
		return err
	}
	var clash []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "writer-cmd", "reader-cmd", "mode", "bytes", "repeat", "verify", "timeout":
			clash = append(clash, "--"+f.Name)
		}
	})
	if len(clash) > 0 {
		return usagef("--attach: watches two running processes, so %s does not apply (drop it)", strings.Join(clash, ", "))
	}
	if err := bench.CheckWatch(w, r, af.duration); err != nil {
		return usageOf(err)
	}
	if err := pf.check(env, fs); err != nil {
		return err
	}
	name := cf.name
	if name != "" {
		if err := checkName(name); err != nil {
			return err
		}
	} else {
		name = commandName(procComm(w))
	}
	p, err := profile.New(profile.Config{FreqHz: pf.freq, Mode: name, View: pf.view, Event: pf.event, CountInline: true})
	if err != nil {
		return usageOf(err)
	}
	for i, pid := range []int{w, r} {
		if err := profile.ProbeAttach(pid); err != nil {
			return usagef("--attach %s: %s %d cannot be profiled: %v", af.pids, []string{"writer", "reader"}[i], pid, err)
		}
	}
	if err := claimOut(pf, name); err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "pipelab: attached to writer %d and reader %d for %s ...\n", w, r, af.duration)
	res, err := bench.Watch(ctx, w, r, af.duration, p)
	if res == nil {
		if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ESRCH) {
			return &usageError{fmt.Sprintf("--attach %s: %v", af.pids, err)}
		}
		return err
	}
	sr := &stepRuns{o: res.Options, name: name, p: p, err: err}
	sr.res[profiled] = res
	step, tops, err := finishStep(sr, pf, false)
	if step != nil {
		printProfileSummary(env.stdout, step, tops, nil)
		if saved(err) {
			fmt.Fprintf(env.stderr, "wrote %s\n", strings.Join(stepFiles(pf.out, step), " "))
		}
	}
	return err
}

// procComm is the name of pid, or "attach" when it cannot be read.
func procComm(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil || strings.TrimSpace(string(b)) == "" {
		return "attach"
	}
	return strings.TrimSpace(string(b))
}
