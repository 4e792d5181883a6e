package profile_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/profile"
)

var (
	wakeBytes  = flag.String("wake.bytes", "256MiB", "bytes piped per run by BenchmarkWakeCost")
	wakeRounds = flag.Int("wake.rounds", 5, "interleaved rounds of BenchmarkWakeCost")
	wakeModes  = flag.String("wake.modes", "write,vmsplice,splice,huge,busy", "comma-separated modes for BenchmarkWakeCost")
)

// wakeVariants are what BenchmarkWakeCost runs: no observer, the wall
// view without the wake-up recording, and the wall view with it.
var wakeVariants = []string{"unprofiled", "wall-nowake", "wall"}

// BenchmarkWakeCost measures what recording who woke whom costs the
// transfer: per mode, throughput in the wall view with the sched_waking
// events over throughput in the wall view without them ("MODE-wake-ratio"),
// and each wall variant over an unprofiled run ("MODE-wall-ratio",
// "MODE-wall-nowake-ratio"). Each round runs the three variants of a mode
// back to back in an order that rotates from round to round; ratios are
// taken within a round and their medians reported. Run it alone:
//
//	go test -run '^$' -bench WakeCost -benchtime 1x ./profile [-args -wake.rounds 7]
func BenchmarkWakeCost(b *testing.B) {
	mustHavePerfEvents(b)
	if err := profile.ProbeWakeups(); err != nil {
		b.Skipf("sched tracepoints refused: %v", err)
	}
	size, err := bench.ParseSize(*wakeBytes)
	if err != nil {
		b.Fatal(err)
	}
	modes := strings.Split(*wakeModes, ",")
	ratios := map[string][]float64{}
	for i := 0; i < b.N*(*wakeRounds); i++ {
		for _, mode := range modes {
			got := map[string]float64{}
			for j := range wakeVariants {
				v := wakeVariants[(i+j)%len(wakeVariants)]
				got[v] = wakeRun(b, mode, size, v)
			}
			ratios[mode+"-wake"] = append(ratios[mode+"-wake"], got["wall"]/got["wall-nowake"])
			ratios[mode+"-wall"] = append(ratios[mode+"-wall"], got["wall"]/got["unprofiled"])
			ratios[mode+"-wall-nowake"] = append(ratios[mode+"-wall-nowake"], got["wall-nowake"]/got["unprofiled"])
		}
	}
	for _, mode := range modes {
		line := fmt.Sprintf("%-9s", mode)
		for _, k := range []string{"wake", "wall", "wall-nowake"} {
			r := ratios[mode+"-"+k]
			b.ReportMetric(median(r), mode+"-"+k+"-ratio")
			line += fmt.Sprintf("  %s %.3f (%s)", k, median(r), fmtRange(r))
		}
		b.Log(line)
	}
}

// wakeRun runs one transfer of mode as variant v and returns its GiB/s.
func wakeRun(b *testing.B, mode string, size int64, v string) float64 {
	o := bench.DefaultOptions()
	o.Mode, o.Bytes, o.Repeat = mode, size, 1
	var obs bench.Observer
	if v != "unprofiled" {
		if v == "wall-nowake" {
			defer profile.RefuseWakes(errors.New("not recorded in this variant"))()
		}
		p, err := profile.New(profile.Config{FreqHz: 999, Mode: mode, View: "wall"})
		if err != nil {
			b.Fatal(err)
		}
		obs = p
		defer func() {
			res := p.Result()
			if res.View != "wall" || (v == "wall") != (res.Roles[0].Wake != nil) {
				b.Fatalf("%s %s: view %s, wake-ups recorded %v", mode, v, res.View, res.Roles[0].Wake != nil)
			}
		}()
	}
	res, err := bench.Run(context.Background(), o, obs, nil)
	if err != nil {
		b.Fatalf("%s %s: %v", mode, v, err)
	}
	return res.Runs[0].GiBPerSec
}
