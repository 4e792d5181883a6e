package profile_test

import (
	"fmt"
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

// TestSamplersSpread: the CPU-wide cpu-clock timers of two CPUs fire
// half a period apart, so that no sample of one CPU is taken while the
// other CPU is stalled in its own timer interrupt (see phase.go). Two
// threads spin, one pinned to each CPU, while both CPUs are sampled at
// 999 Hz; each CPU 1 sample must land at least 440µs from the nearest CPU 0
// sample in the median (half a period is 500µs; timers enabled back to
// back are 5-50µs apart). When no try could place the timers or run both
// spinners (a machine too busy to run a pinned thread on time), the test
// skips.
func TestSamplersSpread(t *testing.T) {
	mustHavePerfEvents(t)
	cpus := []int{0, 1}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil || !set.IsSet(0) || !set.IsSet(1) {
		t.Skip("needs CPUs 0 and 1")
	}
	const freq = 999
	// Other load on the machine can take a spinner's CPU or delay a
	// timer: up to three tries, and a try counts only when the timers were
	// placed and both spinners ran.
	var report []string
	valid := 0
	for try := 0; try < 3; try++ {
		times, placed, err := profile.CPUSampleTimes(cpus, freq, os.Getpid(), func() { spinOn(cpus, 300*time.Millisecond) })
		if err != nil {
			t.Fatal(err)
		}
		a, b := times[0], times[1]
		if !placed || len(a) < 100 || len(b) < 100 {
			report = append(report, fmt.Sprintf("try %d: timers placed %v, samples of the spinning threads CPU 0 %d, CPU 1 %d (want 100 each in 300ms at %d Hz)", try+1, placed, len(a), len(b), freq))
			continue
		}
		valid++
		med, p10, n := nearestGaps(a, b)
		t.Logf("CPU 1 sample to nearest CPU 0 sample: median %v, 10th percentile %v (%d samples)", med, p10, n)
		if med >= 440*time.Microsecond {
			return
		}
		report = append(report, fmt.Sprintf("try %d: the two CPUs' timers are %v apart in the median", try+1, med))
	}
	if valid == 0 {
		load, _ := os.ReadFile("/proc/loadavg")
		t.Skipf("the machine was too busy to run a pinned spinner on each CPU (load average %s):\n%s", strings.Fields(string(load) + " ?")[0], strings.Join(report, "\n"))
	}
	t.Errorf("want the timers half a period apart (at least 440µs in the median) in one of three tries:\n%s", strings.Join(report, "\n"))
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
