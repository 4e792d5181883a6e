package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/profile"
	"github.com/pipelab/pipelab/result"
)

// Sizing a step by samples (--samples): before the rounds, one
// calibration transfer per step, profiled as the step's are and then
// dropped, tells how many samples each role takes per byte; the step's
// transfers, all of them, then grow past --bytes until the profiled ones
// should give the roles --samples over the rounds. All kinds of a step
// keep one size, so their throughputs compare and the figures per byte
// hold. The estimate is only as good as the calibration transfer was
// like the others; a step whose roles still fall short runs another round
// or two (topUp).

const (
	// calibrationSamples is how many samples the role with fewest should
	// take in a calibration transfer for its rate to be worth going by,
	// and calibrationTries how many calibration transfers may be run to
	// get there.
	calibrationSamples = 50
	calibrationTries   = 3
	// samplesMargin is how much more than the estimate a step asks for:
	// the next transfers may run faster, or sleep more, than the
	// calibration transfer did.
	samplesMargin = 1.2
	// maxTransferTime bounds how long any transfer of a step may be made
	// to last by the estimate, so that a step whose roles hardly run
	// cannot make the ladder run for minutes; it then gets fewer samples,
	// and a warning says so.
	maxTransferTime = 2 * time.Second
	// calibrationBytes is the first calibration transfer's size at most.
	calibrationBytes = 256 << 20
	// sizeUnit is what a grown size is rounded up to.
	sizeUnit = 64 << 20
)

// sizeSteps sizes steps for pf.samples samples per role, if asked, and
// says so on stderr.
func sizeSteps(ctx context.Context, env *cli, steps []*stepRuns, pf profileFlags, rounds int) error {
	if pf.samples == 0 {
		return nil
	}
	fmt.Fprintf(env.stderr, "sizing the transfers for %d samples per role (--samples) ...\n", pf.samples)
	return sizeForSamples(ctx, env, steps, pf.samples, rounds, func(name string) (*profile.Profiler, error) { return newProfiler(name, pf) })
}

// sizeForSamples grows the transfers of every profiled step of steps so
// that their profiled transfers, over rounds rounds, should give each
// role samples samples; steps with a command of the user's keep their
// size. newProfiler makes a profiler like the step's for the calibration.
// It returns the first failure of a calibration transfer.
func sizeForSamples(ctx context.Context, env *cli, steps []*stepRuns, samples, rounds int, newProfiler func(name string) (*profile.Profiler, error)) error {
	for _, sr := range steps {
		if sr.p == nil || sr.o.WriterCmd != "" || sr.o.ReaderCmd != "" {
			continue
		}
		size, note, err := calibrate(ctx, sr, samples, rounds, newProfiler)
		if err != nil {
			return fmt.Errorf("step %s: calibration: %w", sr.name, err)
		}
		fmt.Fprintf(env.stderr, "%s: %s\n", sr.name, note)
		sr.o.Bytes = max(sr.o.Bytes, size)
		sr.samples = samples
	}
	return nil
}

// calibrate runs sr's calibration transfers and returns the size its
// transfers need, and a note that says why. A calibration transfer whose
// role with fewest samples took fewer than calibrationSamples is run
// again, larger, up to calibrationTries in all.
func calibrate(ctx context.Context, sr *stepRuns, samples, rounds int, newProfiler func(name string) (*profile.Profiler, error)) (int64, string, error) {
	o := sr.o
	o.Repeat = 1
	o.Bytes = min(o.Bytes, calibrationBytes)
	for try := 1; ; try++ {
		p, err := newProfiler(sr.name)
		if err != nil {
			return 0, "", err
		}
		res, err := bench.Run(ctx, o, p, nil)
		if err != nil {
			return 0, "", err
		}
		bytesPerSec := res.Runs[0].GiBPerSec * (1 << 30)
		fewest := fewestSamples(o, p.Samples())
		limit := roundSize(int64(bytesPerSec * maxTransferTime.Seconds()))
		if fewest < calibrationSamples && try < calibrationTries && o.Bytes < limit {
			grow := 4.0
			if fewest > 0 {
				grow = 1.2 * calibrationSamples / float64(fewest)
			}
			o.Bytes = min(roundSize(int64(float64(o.Bytes)*grow)), limit)
			continue
		}
		perTransfer := samplesMargin * float64(samples) / float64(rounds)
		size := int64(math.MaxInt64)
		if fewest > 0 {
			size = roundSize(int64(perTransfer / float64(fewest) * float64(o.Bytes)))
		}
		calib := fmt.Sprintf("a calibration transfer of %s took %d samples of the role with fewest", bench.FormatSize(o.Bytes), fewest)
		if size > limit {
			size = max(limit, sr.o.Bytes)
			return size, fmt.Sprintf("%s per transfer, as long as a transfer may be made (%v); %d samples per role would take more (%s)",
				bench.FormatSize(size), maxTransferTime, samples, calib), nil
		}
		return size, fmt.Sprintf("%s per transfer for %d samples per role over %d profiled transfers (%s)",
			bench.FormatSize(max(size, sr.o.Bytes)), samples, rounds, calib), nil
	}
}

// maxExtraRounds is how many rounds a step sized for samples may run
// past --repeat when its roles are still short of them.
const maxExtraRounds = 2

// topUp runs one more round of every step of steps sized for samples
// whose roles took fewer than that over the rounds so far, until none is
// short or maxExtraRounds were run. It returns the first failure.
func topUp(ctx context.Context, env *cli, steps []*stepRuns) error {
	for range maxExtraRounds {
		var short []*stepRuns
		for _, sr := range steps {
			if sr.samples > 0 && sr.err == nil && fewestSamples(sr.o, sr.p.Samples()) < uint64(sr.samples) {
				short = append(short, sr)
			}
		}
		if len(short) == 0 {
			return nil
		}
		for _, sr := range short {
			fmt.Fprintf(env.stderr, "%s: %d samples of the role with fewest, short of %d: one more round\n", sr.name, fewestSamples(sr.o, sr.p.Samples()), sr.samples)
			sr.o.Repeat++
		}
		// The short steps all ran as many rounds: the planned ones and as
		// many extra ones.
		runRoundsFrom(ctx, env, short, short[0].o.Repeat-1, short[0].o.Repeat) // a failure stays in its step's err
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// roundSize rounds n up to a whole sizeUnit.
func roundSize(n int64) int64 {
	return (n + sizeUnit - 1) / sizeUnit * sizeUnit
}

// sized reports whether --samples sizes a step of o by its role: every
// role but the writer of a copy mode (bench's copy.go), which lays its
// bytes out before the start and sleeps through the transfer, so that no
// size of transfer gives it samples.
func sized(o bench.Options, role string) bool {
	m, _ := bench.LookupMode(o.Mode)
	return !(role == "writer" && m.Writer == "fill")
}

// fewestSamples is the fewest samples a sized role of a step of o took;
// counts are the writer's, then the reader's (profile.Profiler.Samples).
func fewestSamples(o bench.Options, counts []uint64) uint64 {
	fewest := uint64(math.MaxUint64)
	for i, n := range counts {
		if role := []string{"writer", "reader"}[min(i, 1)]; sized(o, role) {
			fewest = min(fewest, n)
		}
	}
	return fewest
}

// samplesWarnings says which roles of step, run with o, got fewer
// samples than the step was sized for.
func samplesWarnings(step *result.Step, o bench.Options, samples int) []string {
	var w []string
	for _, r := range step.Roles {
		if r.Samples > 0 && r.Samples < uint64(samples) && sized(o, r.Role) { // none: emptyRoles says why
			w = append(w, fmt.Sprintf("%s: %d samples, fewer than the %d the transfers were sized for (they ran faster or slept more than the calibration transfer; raise --bytes)", r.Role, r.Samples, samples))
		}
	}
	return w
}
