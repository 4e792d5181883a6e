package profile_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/profile"
)

var (
	fidelityModes    = flag.String("fidelity.modes", "write,vmsplice,splice,huge,busy", "comma-separated modes of BenchmarkFidelity")
	fidelityRuns     = flag.Int("fidelity.runs", 2, "same-transfer runs per mode and phasing of BenchmarkFidelity, pooled")
	fidelityBytes    = flag.String("fidelity.bytes", "", "bytes piped per transfer of BenchmarkFidelity (default 4GiB, busy 16GiB, write 1GiB)")
	fidelityFreq     = flag.Int("fidelity.freq", 999, "pipelab's sampling frequency in BenchmarkFidelity, in Hz")
	fidelityPerfFreq = flag.Int("fidelity.perf-freq", 997, "perf record's sampling frequency in BenchmarkFidelity, in Hz")
	fidelityPhasing  = flag.String("fidelity.phasing", profile.PhasingNames[0], "comma-separated phasings of pipelab's timers in BenchmarkFidelity, each in runs of its own: "+strings.Join(profile.PhasingNames, ", ")+" (the first is pipelab's)")
	fidelityWitness  = flag.Bool("fidelity.witness", false, "sample BenchmarkFidelity's transfers with a witness too: pipelab's samplers at -fidelity.ref-freq, timers at random offsets, rings read after the transfer")
	fidelityRefRuns  = flag.Int("fidelity.ref-runs", 0, "reference transfers per mode in BenchmarkFidelity, sampled at -fidelity.ref-freq alone, pooled (0: none)")
	fidelityRefFreq  = flag.Int("fidelity.ref-freq", 97, "the witness's and the reference's sampling frequency in BenchmarkFidelity, in Hz")
	fidelityTop      = flag.Int("fidelity.top", 10, "kernel functions compared per role and side in BenchmarkFidelity")
	fidelityPerf     = flag.Bool("fidelity.perf", true, "record BenchmarkFidelity's transfers with perf record, where perf is installed")
)

// fidelitySizes are the bytes per transfer of BenchmarkFidelity where
// they are not 4GiB: about as long a transfer in every mode.
var fidelitySizes = map[string]int64{"write": 1 << 30, "busy": 16 << 30}

// The samplers BenchmarkFidelity compares, besides pipelab's in each
// phasing.
const (
	sidePerf      = "perf"
	sideWitness   = "witness"
	sideReference = "reference"
)

// BenchmarkFidelity checks, per mode, that pipelab's profile of a
// transfer is the transfer's and not pipelab's. Each run profiles one
// transfer with pipelab (cpu view, -fidelity.freq, default 999 Hz) inside
// `perf record -a -C <pinned CPUs> -F <-fidelity.perf-freq> -g -e
// cpu-clock` (Debian's linux-perf; 997 Hz, so that the two tools' timers
// drift across each other instead of locking at one phase); perf's
// samples count only for the threads pipelab's role profiles name (their
// tid label). On both sides only samples with the transfer's system call
// on the stack count (transferSyscalls), so that the processes' start
// and exit drop out, and each kernel function's inclusive share of them
// is compared per role: the top -fidelity.top functions of either side.
// pipelab itself never runs perf; this benchmark does.
//
// A gap says the tools differ, not which is right: each timer interrupt
// stalls its CPU for tens of microseconds in a guest, and a sampler that
// takes its samples at a fixed phase of those stalls can be biased. Two
// least-disturbing samplers say which: with -fidelity.witness, a witness
// samples the same transfers (pipelab's samplers at -fidelity.ref-freq,
// default 97 Hz, each CPU's timer at a random offset, their rings read
// only after the transfer), so its samples fall at every phase of the
// other tools' stalls and it adds a tenth of their stalls; with
// -fidelity.ref-runs N, N transfers of their own are sampled the same
// way and nothing else runs, interleaved with the others, which also
// shows what sampling at 999 Hz does to the transfer itself. Both are
// pooled over the runs. -fidelity.phasing lists how pipelab's timers
// stand to each other (profile.SetPhasing), each phasing in transfers of
// its own, to compare designs.
//
// It prints, per mode and role, the shares side by side with the gaps in
// percentage points and each gap's 95% sampling interval (were samples
// independent draws), then one summary table, and reports per mode the
// worst gap of pipelab's first phasing against perf
// ("vmsplice-perf-pp"), against the witness and the reference where
// measured ("vmsplice-witness-pp", "vmsplice-ref-pp"), and the fewest
// samples a role had ("vmsplice-samples"). Target: at most 4 pp against
// perf in every mode, 2 runs per mode. Run it alone (make fidelity):
//
//	go test -run '^$' -bench Fidelity -benchtime 1x -timeout 60m ./profile -args [-fidelity.runs 2] [-fidelity.witness -fidelity.ref-runs 20] [-fidelity.phasing spread,in-step]
func BenchmarkFidelity(b *testing.B) {
	mustHavePerfEvents(b)
	modes := strings.Split(*fidelityModes, ",")
	phasings := strings.Split(*fidelityPhasing, ",")
	for _, ph := range phasings {
		if !slices.Contains(profile.PhasingNames, ph) {
			b.Fatalf("-fidelity.phasing: unknown phasing %q (want some of %s)", ph, strings.Join(profile.PhasingNames, ", "))
		}
	}
	withPerf := *fidelityPerf
	if withPerf {
		if err := probePerfRecord(); err != nil {
			b.Logf("no perf record: %v", err)
			withPerf = false
		}
	}
	if !withPerf && !*fidelityWitness && *fidelityRefRuns == 0 {
		b.Skip("nothing to compare pipelab's samples with: no perf record, and neither -fidelity.witness nor -fidelity.ref-runs")
	}
	fmt.Printf("BenchmarkFidelity: %d run(s) per mode and phasing, %d reference run(s) per mode; load average %s\n", *fidelityRuns, *fidelityRefRuns, loadAvg())
	fs := map[string]*fidelitySide{} // by mode and side
	side := func(mode, name string) *fidelitySide {
		k := mode + " " + name
		if fs[k] == nil {
			fs[k] = &fidelitySide{name: name}
		}
		return fs[k]
	}
	for i := 0; i < b.N*(*fidelityRuns); i++ {
		for _, mode := range modes {
			o := fidelityOptions(b, mode)
			for j := range phasings {
				ph := phasings[(i+j)%len(phasings)]
				var pf, wt *fidelitySide
				if withPerf {
					pf = side(mode, sidePerf+" "+ph)
				}
				if *fidelityWitness {
					wt = side(mode, sideWitness+" "+ph)
				}
				fidelityRun(b, o, ph, side(mode, ph), pf, wt)
			}
			// The reference runs, spread evenly over the rounds.
			refs := *fidelityRefRuns*(i+1)/(*fidelityRuns) - *fidelityRefRuns*i/(*fidelityRuns)
			for range refs {
				fidelityRun(b, o, sideReference, side(mode, sideReference), nil, nil)
			}
		}
	}
	fmt.Printf("load average at the end %s\n", loadAvg())
	var sum []string
	for _, mode := range modes {
		ref := fs[mode+" "+sideReference]
		for k, ph := range phasings {
			pl := fs[mode+" "+ph]
			line := fmt.Sprintf("| %s | %s | %.2f | %d |", mode, ph, pl.gibPerSec(), pl.fewest())
			for _, against := range []*fidelitySide{fs[mode+" "+sidePerf+" "+ph], fs[mode+" "+sideWitness+" "+ph], ref} {
				if against == nil {
					line += " — |"
					continue
				}
				w := printGaps(os.Stdout, mode, against, pl)
				line += fmt.Sprintf(" %s %+.1f (±%.1f) |", w.fn, w.gap, w.err)
				if k == 0 {
					b.ReportMetric(math.Abs(w.gap), mode+"-"+strings.Fields(against.name)[0]+"-pp")
				}
			}
			if k == 0 {
				b.ReportMetric(float64(pl.fewest()), mode+"-samples")
			}
			sum = append(sum, line)
		}
		if pf := fs[mode+" "+sidePerf+" "+phasings[0]]; pf != nil {
			// perf enables its events CPU by CPU: its timers are as far
			// apart as that left them.
			fmt.Printf("\n%s: perf's timers on the writer's and the reader's CPUs fired %v apart in the median, by transfer\n", mode, pf.offsets)
			if ref != nil {
				printGaps(os.Stdout, mode, ref, pf)
			}
		}
		if ref != nil {
			sum = append(sum, fmt.Sprintf("| %s | %s at %d Hz | %.2f | %d | | | |", mode, sideReference, *fidelityRefFreq, ref.gibPerSec(), ref.fewest()))
		}
	}
	fmt.Printf("\nworst gap of pipelab's shares against each sampler's, in percentage points (95%% sampling interval):\n\n")
	fmt.Printf("| mode | pipelab's timers | GiB/s | fewest samples of a role | against perf | against the witness | against the reference |\n")
	fmt.Printf("| --- | --- | ---: | ---: | --- | --- | --- |\n")
	fmt.Println(strings.Join(sum, "\n"))
}

// fidelitySide is what one sampler recorded of one mode's transfers.
type fidelitySide struct {
	name  string
	roles [2]shareTally // writer, reader
	gibs  []float64     // the transfers' throughput (pipelab's and the reference's)
	// offsets are, for perf, how far apart its timers on the writer's
	// and the reader's CPUs fired in each transfer (timerOffset).
	offsets []time.Duration
}

// gibPerSec is the median throughput of the side's transfers; 0 for a
// side that runs no transfer of its own.
func (s *fidelitySide) gibPerSec() float64 { return median(s.gibs) }

// fewest is the smaller of the roles' sample counts.
func (s *fidelitySide) fewest() int64 { return min(s.roles[0].total, s.roles[1].total) }

// fidelityOptions returns the settings of mode's transfers.
func fidelityOptions(b *testing.B, mode string) bench.Options {
	o := bench.DefaultOptions()
	o.Mode, o.Repeat = mode, 1
	o.Bytes = 4 << 30
	if n, ok := fidelitySizes[mode]; ok {
		o.Bytes = n
	}
	if *fidelityBytes != "" {
		n, err := bench.ParseSize(*fidelityBytes)
		if err != nil {
			b.Fatalf("-fidelity.bytes: %v", err)
		}
		o.Bytes = n
	}
	return o
}

// fidelityRun profiles one transfer of o with pipelab, its timers phased
// as phasing says (sideReference: as the reference, alone), and adds its
// samples to pl; when pf is not nil, perf record's samples of the same
// threads to pf, and when wt is not nil, the witness's to wt.
func fidelityRun(b *testing.B, o bench.Options, phasing string, pl, pf, wt *fidelitySide) {
	var p *profile.Profiler
	var obs observers
	var err error
	if phasing == sideReference {
		p, obs, err = quietSampler(o.Mode)
	} else if p, err = profile.New(profile.Config{FreqHz: *fidelityFreq, Mode: o.Mode}); err == nil {
		obs = observers{startWith{p, func() func() { restore, _ := profile.SetPhasing(phasing); return restore }}}
	}
	if err != nil {
		b.Fatal(err)
	}
	var rec *perfRecord
	if pf != nil {
		if rec, err = newPerfRecord(pinnedCPUs(o), *fidelityPerfFreq); err != nil {
			b.Fatal(err)
		}
		defer rec.close()
		rec.keep = true
		obs = append(observers{rec}, obs...) // perf's events on before pipelab's timers are placed
	}
	var witness *profile.Profiler
	if wt != nil {
		var wobs observers
		if witness, wobs, err = quietSampler(o.Mode); err != nil {
			b.Fatal(err)
		}
		obs = append(obs, wobs...)
	}
	res, err := bench.Run(context.Background(), o, obs, nil)
	if err != nil {
		b.Fatalf("%s %s: %v", o.Mode, phasing, err)
	}
	pl.gibs = append(pl.gibs, res.Runs[0].GiBPerSec)
	var perfStacks []stackSample
	if rec != nil {
		if perfStacks, err = rec.stacks(); err != nil {
			b.Fatalf("%s %s: %v", o.Mode, phasing, err)
		}
		pf.offsets = append(pf.offsets, timerOffset(perfStacks, o.PinWriter, o.PinReader))
	}
	for i, r := range p.Result().Roles {
		ss := profileStacks(r.Profile)
		pl.roles[i].add(ss, nil)
		if rec != nil {
			tids := map[int]bool{}
			for _, s := range ss {
				tids[s.tid] = true
			}
			pf.roles[i].add(perfStacks, tids)
		}
	}
	if witness != nil {
		for i, r := range witness.Result().Roles {
			wt.roles[i].add(profileStacks(r.Profile), nil)
		}
	}
}

// quietSampler returns the least disturbing sampler pipelab can be, and
// the observer that starts it so: its CPU-wide samplers at
// -fidelity.ref-freq, each CPU's timer at a random offset, its rings read
// only after the transfer.
func quietSampler(mode string) (*profile.Profiler, observers, error) {
	p, err := profile.New(profile.Config{FreqHz: *fidelityRefFreq, Mode: mode})
	if err != nil {
		return nil, nil, err
	}
	return p, observers{startWith{p, func() func() {
		restore, _ := profile.SetPhasing("random")
		return joinRestore(restore, profile.DeferReading())
	}}}, nil
}

// startWith is an observer started with profile's seams set by set,
// which returns their restore: profile reads its seams at Start, so two
// profilers of one transfer can be started with different ones.
type startWith struct {
	bench.Observer
	set func() (restore func())
}

func (s startWith) Start() error {
	defer s.set()()
	return s.Observer.Start()
}

// joinRestore returns a function that runs every one of fs, last first.
func joinRestore(fs ...func()) func() {
	return func() {
		for i := len(fs) - 1; i >= 0; i-- {
			fs[i]()
		}
	}
}

// printGaps writes the shares of a and b per role of mode side by side,
// b's gap over a's, and returns the worst gap of both roles.
func printGaps(w io.Writer, mode string, a, b *fidelitySide) gapRow {
	var worst gapRow
	for i, role := range []string{"writer", "reader"} {
		rows := compareTallies(&a.roles[i], &b.roles[i], *fidelityTop)
		wr := worstGap(rows)
		if math.Abs(wr.gap) >= math.Abs(worst.gap) {
			worst = wr
			worst.fn = role + " " + wr.fn
		}
		fmt.Fprintf(w, "\n%s %s: %s %d samples, %s %d samples; worst gap %+.1f pp (%s, ±%.1f)\n",
			mode, role, a.name, a.roles[i].total, b.name, b.roles[i].total, wr.gap, wr.fn, wr.err)
		fmt.Fprintf(w, "  %-32s %12s %12s %8s %6s\n", "function", a.name, b.name, "gap pp", "±95%")
		for _, r := range rows {
			fmt.Fprintf(w, "  %-32s %11.1f%% %11.1f%% %+8.1f %6.1f\n", r.fn, 100*r.a, 100*r.b, r.gap, r.err)
		}
	}
	return worst
}

// observers is a bench.Observer made of several, attached and started in
// order and stopped in reverse order.
type observers []bench.Observer

func (os observers) Attach(writer, reader int) error {
	for _, o := range os {
		if err := o.Attach(writer, reader); err != nil {
			return err
		}
	}
	return nil
}

func (os observers) Start() error {
	for _, o := range os {
		if err := o.Start(); err != nil {
			return err
		}
	}
	return nil
}

func (os observers) Stop() error {
	var first error
	for i := len(os) - 1; i >= 0; i-- {
		if err := os[i].Stop(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// loadAvg is /proc/loadavg's first three fields.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
