package profile_test

import (
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pipelab/pipelab/profile"
)

// TestSamplersFireInStep: the CPU-wide cpu-clock timers of two CPUs fire
// at the same moments, so that a writer and a reader taking turns wait
// out one timer stall per period instead of two. Two threads spin, one
// pinned to each CPU, while both CPUs are sampled at 999 Hz; each CPU 1
// sample must land within 25µs of a CPU 0 sample in the median. Here that
// median is 0.4-4µs on a quiet machine and 5-12µs with the other
// packages' tests running; timers started at unrelated moments would be
// a quarter period (250µs) apart. When the start says it could not place
// the timers (a machine too busy to run a pinned thread on time), the
// test skips.
func TestSamplersFireInStep(t *testing.T) {
	mustHavePerfEvents(t)
	cpus := []int{0, 1}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil || !set.IsSet(0) || !set.IsSet(1) {
		t.Skip("needs CPUs 0 and 1")
	}
	const freq = 999
	times, inStep, err := profile.CPUSampleTimes(cpus, freq, os.Getpid(), func() { spinOn(cpus, 300*time.Millisecond) })
	if err != nil {
		t.Fatal(err)
	}
	if !inStep {
		t.Skip("the machine was too busy to run a pinned thread on each CPU on time; timers left as enabled")
	}
	a, b := times[0], times[1]
	if len(a) < 100 || len(b) < 100 {
		t.Fatalf("samples of the spinning threads: CPU 0 %d, CPU 1 %d; want at least 100 each in 300ms at %d Hz", len(a), len(b), freq)
	}
	slices.Sort(a)
	var gaps []time.Duration
	for _, tb := range b {
		i, _ := slices.BinarySearch(a, tb)
		gap := uint64(1 << 63)
		for _, j := range []int{i - 1, i} {
			if j >= 0 && j < len(a) {
				gap = min(gap, max(a[j], tb)-min(a[j], tb))
			}
		}
		gaps = append(gaps, time.Duration(gap))
	}
	slices.Sort(gaps)
	med := gaps[len(gaps)/2]
	t.Logf("CPU 1 sample to nearest CPU 0 sample: median %v, 90th percentile %v (%d samples)", med, gaps[len(gaps)*9/10], len(gaps))
	if med > 25*time.Microsecond {
		t.Errorf("the two CPUs' timers are %v apart in the median; want them in step (within 25µs)", med)
	}
}

// spinOn keeps each of cpus busy with a pinned thread for d.
func spinOn(cpus []int, d time.Duration) {
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for _, cpu := range cpus {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var was, set unix.CPUSet
			unix.SchedGetaffinity(0, &was)
			set.Set(cpu)
			unix.SchedSetaffinity(0, &set)
			defer unix.SchedSetaffinity(0, &was)
			for time.Now().Before(end) {
			}
		}()
	}
	wg.Wait()
}
