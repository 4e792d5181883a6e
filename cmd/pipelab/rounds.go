package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/profile"
	"github.com/pipelab/pipelab/result"
)

// transfer is the kind of one transfer of a step.
type transfer int

const (
	// unprofiled transfers run with no observer: the baseline whose
	// throughput the step reports.
	unprofiled transfer = iota
	// profiled transfers are sampled; the profiles come from them.
	profiled
	// counted transfers carry the per-thread counters (cpu view only).
	counted
)

func (k transfer) String() string {
	return [...]string{"unprofiled", "profiled", "counted"}[k]
}

// stepRuns is one mode's transfers, gathered over the rounds.
type stepRuns struct {
	o     bench.Options     // Repeat is the number of rounds
	name  string            // the step's label: o.Mode, or --name's
	p     *profile.Profiler // nil for pipelab run
	kinds []transfer        // what each round runs, in its first order
	res   [3]*bench.Result  // by kind, merged over rounds
	err   error             // the failure that stopped the rounds
	// samples is how many samples per role the step's transfers were
	// sized for (--samples); 0 when sized by --bytes alone.
	samples int
}

// newStepRuns plans the transfers of o's mode: unprofiled only without a
// profiler; with one, profiled, unprofiled (unless noBaseline), and
// counted when the profiler counts in transfers of its own.
func newStepRuns(o bench.Options, p *profile.Profiler, noBaseline bool) *stepRuns {
	sr := &stepRuns{o: o, name: o.Mode, p: p}
	if p == nil {
		sr.kinds = []transfer{unprofiled}
		return sr
	}
	// The profiled transfer goes first, so that a run stopped in its first
	// transfer (an interrupt, a child that fails) still leaves a profile.
	sr.kinds = []transfer{profiled}
	if !noBaseline {
		sr.kinds = append(sr.kinds, unprofiled)
	}
	if p.CountsSeparately() {
		sr.kinds = append(sr.kinds, counted)
	}
	return sr
}

// runRounds runs rounds rounds of every step of steps. In each round the
// steps go in a new random order, as the post's measure.py shuffles its
// configurations in each iteration, and each step runs one transfer of
// each of its kinds, the kinds' order rotated from round to round; so a
// slow period of the machine lands on no mode and no kind alone. A step
// whose transfer fails keeps its error and runs no more, while the others
// go on: a kernel that cannot run one step still gives the rest. An
// interruption stops every step. The failures are returned, joined; the
// results gathered stay in the steps.
func runRounds(ctx context.Context, env *cli, steps []*stepRuns, rounds int) error {
	return runRoundsFrom(ctx, env, steps, 0, rounds)
}

// runRoundsFrom runs rounds first to rounds-1 of steps as runRounds does:
// a step runs more rounds than it was planned for (topUp) as the rounds
// after its last, numbered on.
func runRoundsFrom(ctx context.Context, env *cli, steps []*stepRuns, first, rounds int) error {
	order := make([]*stepRuns, len(steps))
	copy(order, steps)
	var errs []error
	for round := first; round < rounds; round++ {
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, sr := range order {
			if sr.err != nil {
				continue
			}
			for j := range sr.kinds {
				k := sr.kinds[(round+j)%len(sr.kinds)]
				if err := sr.run(ctx, env, k, round, rounds); err != nil {
					sr.err = err
					errs = append(errs, err)
					if ctx.Err() != nil || errors.Is(err, bench.ErrInterrupted) {
						return errors.Join(errs...)
					}
					break
				}
			}
		}
	}
	return errors.Join(errs...)
}

// run runs one transfer of kind k.
func (sr *stepRuns) run(ctx context.Context, env *cli, k transfer, round, rounds int) error {
	o := sr.o
	o.Repeat = 1
	var obs bench.Observer
	switch k {
	case profiled:
		obs = sr.p
	case counted:
		obs = sr.p.Counting()
	}
	label := sr.name
	if sr.p != nil {
		label = fmt.Sprintf("%s %s", sr.name, k)
	}
	res, err := bench.Run(ctx, o, obs, progressPrinter(env, fmt.Sprintf("%s %d/%d", label, round+1, rounds), o))
	if u := errors.Unwrap(err); u != nil { // bench says "run 1 of 1"; say which of the rounds
		what := "run"
		if sr.p != nil {
			what = k.String() + " run"
		}
		err = fmt.Errorf("%s %d of %d: %w", what, round+1, rounds, u)
	}
	if res != nil {
		if sr.res[k] == nil {
			sr.res[k] = res
		} else {
			sr.res[k].Merge(res)
		}
	}
	return err
}

// throughput returns the result whose throughput the step reports: the
// unprofiled transfers', else the profiled ones'.
func (sr *stepRuns) throughput() (*bench.Result, string) {
	switch {
	case sr.res[unprofiled] != nil && sr.p == nil:
		return sr.res[unprofiled], ""
	case sr.res[unprofiled] != nil:
		return sr.res[unprofiled], result.FromUnprofiled
	case slices.Contains(sr.kinds, unprofiled):
		// The rounds stopped before an unprofiled transfer ran.
		return sr.res[profiled], result.FromProfiledStopped
	}
	return sr.res[profiled], result.FromProfiled
}

// cost compares the profiled transfers with the unprofiled ones; nil
// without both.
func (sr *stepRuns) cost() *result.Cost {
	base, prof := sr.res[unprofiled], sr.res[profiled]
	if base == nil || prof == nil {
		return nil
	}
	b, _, _ := base.GiBPerSec()
	p, _, _ := prof.GiBPerSec()
	if b <= 0 || p <= 0 {
		return nil
	}
	ob := &result.Cost{ProfiledMedianGiBs: p, UnprofiledMedianGiBs: b, Ratio: p / b,
		Runs: min(complete(base), complete(prof)), ProfiledGiBs: runGiBs(prof), UnprofiledGiBs: runGiBs(base)}
	if c := sr.res[counted]; c != nil {
		ob.CountedMedianGiBs, _, _ = c.GiBPerSec()
		ob.CountedRuns = complete(c)
	}
	return ob
}

// runGiBs returns the throughput of each finished run of res, in order.
func runGiBs(res *bench.Result) []float64 {
	var v []float64
	for _, r := range res.Runs {
		if !r.Partial {
			v = append(v, r.GiBPerSec)
		}
	}
	return v
}

// complete counts the runs of res that finished.
func complete(res *bench.Result) int {
	return len(slices.DeleteFunc(slices.Clone(res.Runs), func(r bench.RunResult) bool { return r.Partial }))
}
