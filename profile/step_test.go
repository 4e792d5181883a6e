package profile_test

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pipelab/pipelab/profile"
)

// TestSamplersSpread: when enableSamplers reports the CPU-wide cpu-clock
// timers of two CPUs placed, they fire half a period apart, so that no
// sample of one CPU is taken while the other CPU is stalled in its own
// timer interrupt (see phase.go). Both CPUs are sampled at 999 Hz for
// 300ms while a thread pinned to each spins; the samples of every task
// count, so other load on the machine only replaces the spinners' samples
// with its own. Each CPU 1 sample must land at least 440µs from the
// nearest CPU 0 sample in the median (half a period is 500µs; timers
// enabled back to back are 5-50µs apart).
//
// Placing the timers takes a real-time thread on each CPU making a call
// within 31µs of its moment (rephase), or else this thread within 125µs
// (placeLoosely). A machine that cannot grant that is reported as not
// placed, and Start then warns that the timers stand as enabled: the test
// fails only where placement is claimed. (Under a load average of 4.5,
// with four more spinning processes, 40 of 40 starts here were placed,
// with medians of 459-499µs.)
func TestSamplersSpread(t *testing.T) {
	mustHavePerfEvents(t)
	cpus := []int{0, 1}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil || !set.IsSet(0) || !set.IsSet(1) {
		t.Skip("needs CPUs 0 and 1")
	}
	const freq = 999
	times, placed, err := profile.CPUSampleTimes(cpus, freq, func() { spinOn(cpus, 300*time.Millisecond) })
	if err != nil {
		t.Fatal(err)
	}
	a, b := times[0], times[1]
	if len(a) < 100 || len(b) < 100 {
		t.Fatalf("samples on CPU 0 %d, CPU 1 %d; want 100 each in 300ms at %d Hz with a thread spinning on each", len(a), len(b), freq)
	}
	med, p10, n := nearestGaps(a, b)
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("timers placed %v; CPU 1 sample to nearest CPU 0 sample: median %v, 10th percentile %v (%d samples); load average %s", placed, med, p10, n, strings.Fields(string(load) + " ?")[0])
	if placed && med < 440*time.Microsecond {
		t.Errorf("timers reported placed half a period apart, but a CPU 1 sample is %v from the nearest CPU 0 sample in the median; want at least 440µs", med)
	}
}

// nearestGaps returns, over the samples of b, the median and 10th
// percentile of the distance to the nearest sample of a, and how many.
func nearestGaps(a, b []uint64) (med, p10 time.Duration, n int) {
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
	return gaps[len(gaps)/2], gaps[len(gaps)/10], len(gaps)
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
