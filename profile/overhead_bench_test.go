package profile_test

import (
	"context"
	"flag"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	pprof "github.com/google/pprof/profile"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/profile"
)

var (
	overheadBytes  = flag.String("overhead.bytes", "1GiB", "bytes piped per run by BenchmarkOverhead")
	overheadRounds = flag.Int("overhead.rounds", 7, "interleaved rounds of BenchmarkOverhead")
	overheadModes  = flag.String("overhead.modes", "", "comma-separated modes for BenchmarkOverhead (default all)")
	overheadFreq   = flag.Int("overhead.freq", 999, "sampling frequency of BenchmarkOverhead's profiled runs, in Hz (the targets are for 999 and 99)")
	overheadAwake  = flag.Bool("overhead.awake", false, "run every variant of BenchmarkOverhead under the keep-cpus-awake request (no idle states), so the ratios show the cost of sampling without the idle effect")
	overheadPerf   = flag.Bool("overhead.perf", true, "add BenchmarkOverhead's perf variant (perf record -a of an unprofiled transfer) where perf is installed")
	overheadOnly   = flag.String("overhead.variants", "", "comma-separated variants of BenchmarkOverhead besides the baseline (default: "+strings.Join(defaultVariants[1:], ",")+"; also "+strings.Join(diagnosticVariants, ",")+")")
)

// The variants of BenchmarkOverhead: each round runs one transfer of each.
const (
	variantNone      = ""          // no observer: the baseline
	variantCPU       = "cpu"       // profile's cpu view: CPU-wide samplers, rings read as they fill
	variantWall      = "wall"      // profile's wall view: plus switch events and counters on every thread
	variantReference = "reference" // the CPU-wide samplers, rings read only after the transfer
	variantCounted   = "counted"   // profile's counted transfers: the counters on every thread
	variantPerf      = "perf"      // perf record -a of an unprofiled transfer, perf's defaults
	// Diagnostic variants, measured on request (-overhead.variants).
	variantPerfQuiet = "perf-quiet" // perf record -m 8M: rings that do not wake perf during a transfer
	// The cpu view with its samplers' timers phased otherwise than the
	// default: cpu- and the name of the phasing (profile.SetPhasing),
	// and optionally @ and a sampling frequency in Hz other than
	// -overhead.freq (cpu-spread@499).
	variantPhasing = "cpu-"
)

var (
	defaultVariants    = []string{variantNone, variantCPU, variantWall, variantReference, variantCounted, variantPerf}
	diagnosticVariants = []string{variantPerfQuiet, variantPhasing + "PHASING[@HZ]"}
)

// BenchmarkOverhead measures what profiling costs the transfer it
// profiles, per mode, at the default 999 Hz (or -overhead.freq). Each
// round runs one transfer of every variant of a mode back to back, in an
// order that rotates from round to round, and takes every ratio within
// the round, so load that comes and goes on the machine touches both
// sides alike. The variants: no observer (the baseline); the cpu view and
// the wall view, as pipelab profile runs its profiled transfers; the
// counted transfers of the cpu view (per-thread counters only); the
// sampling-only reference, the CPU-wide samplers with nothing else
// attached and their rings read only after the transfer; and perf, an
// unprofiled transfer under `perf record -a -C <pinned CPUs> -F <freq> -g
// -e cpu-clock`, the cross-check a user would make (skipped with the
// reason where perf is missing or refused). On request
// (-overhead.variants) also: cpu-PHASING[@HZ], the cpu view with its
// samplers' timers phased as PHASING says (profile.SetPhasing: in-step,
// as-enabled, random, or spread, the default) and sampling at HZ instead
// of -overhead.freq (cpu-in-step, cpu-spread@499), and perf-quiet, perf
// record with 8 MiB rings per CPU that do not wake perf during a
// transfer.
//
// Per mode it reports the throughput ratio of each variant over the
// baseline ("write-cpu-ratio", "write-perf-ratio", ...; targets here: cpu
// at least 0.90 at 999 Hz and 0.97 at 99 Hz), the cpu view's throughput
// over perf's, round by round ("write-cpu-over-perf"; target: at least
// 1), the
// rise of finish_task_switch's inclusive share of the children's samples
// over the reference's, in percentage points ("write-cpu-fts-rise-pp",
// "write-wall-fts-rise-pp"; target for the cpu view: at most 3), the
// median GiB/s of the baseline ("write-GiB/s"), the samples lost
// ("lost") and the transfers in which a role took no sample, which give
// no finish_task_switch share ("unsampled"); its log gives ranges, the shares themselves (perf's from its
// own recording) and how often perf's threads ran. The cpu view attaches
// nothing the reference does not, so its rise measures what reading the
// rings during the transfer adds; the wall view's is the cost of hooking
// every switch. With -overhead.awake every variant, the baseline too,
// runs under the keep-cpus-awake request (Options.KeepCPUsAwake), which
// takes the idle effect out: a sampler's timer keeps this guest's CPUs
// from halting between wake-ups and so speeds the blocking modes up.
// Run it alone, as the ratios are only as good as the machine is quiet:
//
//	go test -run '^$' -bench Overhead -benchtime 1x ./profile [-args -overhead.freq 99 -overhead.awake]
func BenchmarkOverhead(b *testing.B) {
	mustHavePerfEvents(b)
	size, err := bench.ParseSize(*overheadBytes)
	if err != nil {
		b.Fatal(err)
	}
	variants := overheadVariantNames(b)
	if *overheadAwake {
		if err := bench.ProbeCPUsAwake(); err != nil {
			b.Fatalf("-overhead.awake: %v", err)
		}
	}
	modes := overheadModeNames()
	ratios := map[string][]float64{} // throughput over the baseline, by mode and variant
	rises := map[string][]float64{}  // finish_task_switch share over the reference's, pp
	shares := map[string][]float64{} // finish_task_switch share, %
	base := map[string][]float64{}   // GiB/s without observer, by mode
	wakes := map[string][]float64{}  // perf's own switches per second of transfer
	halts := map[string][]float64{}  // halts per second and pinned CPU, by mode and variant
	halted := map[string][]float64{} // share of the pinned CPUs' time halted
	var lost, unsampled uint64
	for i := 0; i < b.N*(*overheadRounds); i++ {
		for _, mode := range modes {
			got := map[string]overheadFigures{}
			for j := range variants {
				v := variants[(i+j)%len(variants)]
				f := overheadRun(b, mode, size, v)
				got[v] = f
				lost += f.lost
				if f.unsampled {
					unsampled++
				}
			}
			base[mode] = append(base[mode], got[variantNone].gibPerSec)
			for _, v := range variants {
				if h := got[v].haltsPerSec; h >= 0 {
					halts[mode+" "+v] = append(halts[mode+" "+v], h)
					halted[mode+" "+v] = append(halted[mode+" "+v], got[v].halted)
				}
			}
			for _, v := range variants[1:] {
				k := mode + " " + v
				ratios[k] = append(ratios[k], got[v].gibPerSec/got[variantNone].gibPerSec)
				if got[v].fts != nil {
					shares[k] = append(shares[k], got[v].ftsMax())
				}
				if got[v].switchesPerSec >= 0 {
					wakes[k] = append(wakes[k], got[v].switchesPerSec)
				}
				if (v == variantCPU || v == variantWall || strings.HasPrefix(v, variantPhasing)) && got[v].fts != nil && got[variantReference].fts != nil {
					rises[k] = append(rises[k], got[v].ftsRise(got[variantReference]))
				}
			}
		}
	}
	// One log line per mode: testing cuts a benchmark's log after ten
	// lines unless run with -v.
	for _, mode := range modes {
		b.ReportMetric(median(base[mode]), mode+"-GiB/s")
		line := fmt.Sprintf("%-13s ratio (range) / finish_task_switch share%%, rise pp / halts per s and CPU, halted%%:", mode)
		line += haltNote(halts[mode+" "+variantNone], halted[mode+" "+variantNone])
		for _, v := range variants[1:] {
			k := mode + " " + v
			r := ratios[k]
			b.ReportMetric(median(r), mode+"-"+v+"-ratio")
			line += fmt.Sprintf("  %s %.3f (%s)", v, median(r), fmtRange(r))
			if sh := shares[k]; len(sh) > 0 {
				line += fmt.Sprintf(" / %.1f%%", median(sh))
			}
			if rs := rises[k]; len(rs) > 0 {
				b.ReportMetric(median(rs), mode+"-"+v+"-fts-rise-pp")
				line += fmt.Sprintf(", %+.1f", median(rs))
			}
			line += haltNote(halts[k], halted[k])
			if ws := wakes[k]; len(ws) > 0 {
				line += fmt.Sprintf(", perf ran %.0f/s", median(ws))
			}
		}
		if cp := againstPerf(ratios[mode+" "+variantCPU], ratios[mode+" "+variantPerf]); len(cp) > 0 {
			b.ReportMetric(median(cp), mode+"-cpu-over-perf")
			won := 0
			for _, x := range cp {
				if x >= 1 {
					won++
				}
			}
			line += fmt.Sprintf("  cpu/perf %.3f (%s), cpu ahead in %d of %d rounds", median(cp), fmtRange(cp), won, len(cp))
		}
		b.Log(line)
	}
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(unsampled), "unsampled")
}

// againstPerf divides, round by round, the cpu view's ratio by perf's:
// the cpu view's throughput over perf record's in the same round.
func againstPerf(cpu, perf []float64) []float64 {
	var out []float64
	for i := range min(len(cpu), len(perf)) {
		out = append(out, cpu[i]/perf[i])
	}
	return out
}

// haltNote gives the median halts per second and CPU and the median
// share of time halted, "" when not known.
func haltNote(hs, shares []float64) string {
	if len(hs) == 0 {
		return ""
	}
	return fmt.Sprintf(" / %.0f/s %.0f%%", median(hs), 100*median(shares))
}

// overheadVariantNames returns the baseline and the variants to measure
// (-overhead.variants, or the default ones), leaving out with a reason
// those this machine cannot run.
func overheadVariantNames(b *testing.B) []string {
	want := defaultVariants[1:]
	if *overheadOnly != "" {
		want = strings.Split(*overheadOnly, ",")
	}
	variants := []string{variantNone}
	for _, v := range want {
		switch v {
		case variantWall:
			if _, err := profile.New(profile.Config{FreqHz: *overheadFreq, View: "wall"}); err != nil {
				b.Logf("wall view not measured: %v", err)
				continue
			}
		case variantPerf, variantPerfQuiet:
			if !*overheadPerf {
				continue
			}
			if err := probePerfRecord(); err != nil {
				b.Logf("%s not measured: %v", v, err)
				continue
			}
		case variantCPU, variantReference, variantCounted:
		default:
			if _, _, ok := phasingVariant(v); ok {
				break
			}
			b.Fatalf("-overhead.variants: unknown variant %q (want some of %s)", v, strings.Join(append(defaultVariants[1:], diagnosticVariants...), ","))
		}
		variants = append(variants, v)
	}
	return variants
}

// phasingVariant parses a variant cpu-PHASING[@HZ] into the phasing and
// the frequency (-overhead.freq without @HZ); ok is false for another
// variant.
func phasingVariant(v string) (phasing string, hz int, ok bool) {
	rest, ok := strings.CutPrefix(v, variantPhasing)
	if !ok {
		return "", 0, false
	}
	phasing, f, at := strings.Cut(rest, "@")
	hz = *overheadFreq
	if at {
		var err error
		if hz, err = strconv.Atoi(f); err != nil || hz < 1 {
			return "", 0, false
		}
	}
	if !slices.Contains(profile.PhasingNames, phasing) {
		return "", 0, false
	}
	return phasing, hz, true
}

// overheadModeNames returns the modes to measure: -overhead.modes, or all.
func overheadModeNames() []string {
	if *overheadModes != "" {
		return strings.Split(*overheadModes, ",")
	}
	var names []string
	for _, m := range bench.Modes() {
		names = append(names, m.Name)
	}
	return names
}

// overheadFigures are what one run of BenchmarkOverhead measured.
type overheadFigures struct {
	gibPerSec float64
	lost      uint64 // samples the profiler lost
	// fts is finish_task_switch's inclusive share of each role's samples,
	// writer then reader, in percent; nil for a variant that samples
	// nothing.
	fts []float64
	// switchesPerSec is, for the perf variants, how often perf's own
	// threads were switched in and out per second while recording; -1
	// for the others.
	switchesPerSec float64
	// unsampled is set when a role took no sample (a short transfer at a
	// low frequency), so fts is nil.
	unsampled bool
	// haltsPerSec is how often each pinned CPU entered a halting idle
	// state per second of the transfer (-1: not known), and halted the
	// share of their time spent there (idleWatch).
	haltsPerSec, halted float64
}

// ftsMax is the larger of the roles' finish_task_switch shares.
func (f overheadFigures) ftsMax() float64 { return slices.Max(f.fts) }

// ftsRise is the largest rise, over the roles, of finish_task_switch's
// share in f over its share in ref, in percentage points.
func (f overheadFigures) ftsRise(ref overheadFigures) float64 {
	rise := math.Inf(-1)
	for i := range f.fts {
		rise = max(rise, f.fts[i]-ref.fts[i])
	}
	return rise
}

// overheadRun runs one transfer of mode under variant v.
func overheadRun(b *testing.B, mode string, size int64, v string) overheadFigures {
	o := bench.DefaultOptions()
	o.Mode, o.Bytes, o.Repeat = mode, size, 1
	o.KeepCPUsAwake = *overheadAwake
	if v == variantPerf || v == variantPerfQuiet {
		return overheadPerfRun(b, o, v)
	}
	var p *profile.Profiler
	var obs bench.Observer
	if v != variantNone {
		view := "cpu"
		if v == variantWall {
			view = "wall"
		}
		var err error
		freq := *overheadFreq
		if _, hz, ok := phasingVariant(v); ok {
			freq = hz
		}
		if p, err = profile.New(profile.Config{FreqHz: freq, Mode: mode, View: view}); err != nil {
			b.Fatal(err)
		}
		obs = p
		switch v {
		case variantReference:
			defer profile.DeferReading()()
		case variantCounted:
			obs = p.Counting()
		case variantCPU, variantWall:
		default:
			ph, _, _ := phasingVariant(v)
			restore, _ := profile.SetPhasing(ph)
			defer restore()
		}
	}
	w := &idleWatch{inner: obs, cpus: pinnedCPUs(o)}
	res, err := bench.Run(context.Background(), o, w, nil)
	if err != nil {
		b.Fatalf("%s %s: %v", mode, v, err)
	}
	f := overheadFigures{gibPerSec: res.Runs[0].GiBPerSec, switchesPerSec: -1,
		haltsPerSec: w.haltsPerSec(), halted: w.haltedShare()}
	if p == nil || v == variantCounted {
		return f
	}
	for _, r := range p.Result().Roles {
		f.lost += r.Lost
		f.fts = append(f.fts, 100*inclusiveShare(r.Profile, "finish_task_switch"))
		if r.Samples == 0 { // a short transfer at a low --freq
			f.fts, f.unsampled = nil, true
			break
		}
	}
	return f
}

// overheadPerfRun runs one unprofiled transfer of o under perf record
// -a of the pinned CPUs (variant perf or perf-quiet).
func overheadPerfRun(b *testing.B, o bench.Options, v string) overheadFigures {
	var extra []string
	if v == variantPerfQuiet {
		extra = []string{"-m", "8M"}
	}
	r, err := newPerfRecord(pinnedCPUs(o), *overheadFreq, extra...)
	if err != nil {
		b.Fatal(err)
	}
	defer r.close()
	w := &idleWatch{inner: r, cpus: pinnedCPUs(o)}
	res, err := bench.Run(context.Background(), o, w, nil)
	if err != nil {
		b.Fatalf("%s %s: %v", o.Mode, v, err)
	}
	return overheadFigures{
		gibPerSec:      res.Runs[0].GiBPerSec,
		fts:            r.fts,
		unsampled:      r.fts == nil,
		switchesPerSec: float64(r.switches) / r.enabled.Seconds(),
		haltsPerSec:    w.haltsPerSec(),
		halted:         w.haltedShare(),
	}
}

// inclusiveShare is the share of p's samples (its first value) whose
// stack holds a function named fn, or fn with a compiler suffix
// (finish_task_switch.isra.0).
func inclusiveShare(p *pprof.Profile, fn string) float64 {
	var hit, all int64
	for _, s := range p.Sample {
		all += s.Value[0]
		if stackHas(s, fn) {
			hit += s.Value[0]
		}
	}
	if all == 0 {
		return 0
	}
	return float64(hit) / float64(all)
}

// stackHas reports whether s has a frame of fn.
func stackHas(s *pprof.Sample, fn string) bool {
	for _, l := range s.Location {
		for _, ln := range l.Line {
			if n := ln.Function.Name; n == fn || strings.HasPrefix(n, fn+".") {
				return true
			}
		}
	}
	return false
}

// median returns the median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// fmtRange gives the smallest and the largest of rs, two decimals each.
func fmtRange(rs []float64) string {
	if len(rs) == 0 {
		return "none"
	}
	return fmt.Sprintf("%.2f-%.2f", slices.Min(rs), slices.Max(rs))
}
