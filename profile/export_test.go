package profile

import (
	"time"

	perf "github.com/elastic/go-perf"
)

// SetOpenSwitch replaces how the wall view opens its context-switch
// events, to play a kernel that refuses them, and returns a function that
// restores it.
func SetOpenSwitch(open func(tid, cpu int) (*perf.Event, error)) (restore func()) {
	old := openSwitch
	openSwitch = open
	return func() { openSwitch = old }
}

// OpenSwitch is the real opener of the context-switch events.
var OpenSwitch = openSwitch

// RefuseWakes makes the wake-up recording fail to open with err, as a
// machine without tracefs does, and returns a function that restores it.
func RefuseWakes(err error) (restore func()) {
	old := openWakes
	openWakes = func([]int) (*wakeRecorder, error) { return nil, err }
	return func() { openWakes = old }
}

// SlowWakes makes opening the wake-up recording take d longer, as a
// loaded machine can, and returns a function that restores it.
func SlowWakes(d time.Duration) (restore func()) {
	old := openWakes
	openWakes = func(tids []int) (*wakeRecorder, error) {
		time.Sleep(d)
		return old(tids)
	}
	return func() { openWakes = old }
}

// DeferReading makes profilers read their rings only at Stop, and returns
// a function that restores reading them as records come: with nothing of
// the profiler running during the transfer, a profiler is the
// sampling-only reference of BenchmarkOverhead (the CPU-wide samplers and
// nothing else). The rings must hold the whole transfer (cpuRingPages:
// about 5 s at 999 Hz).
func DeferReading() (restore func()) {
	readAtStop = true
	return func() { readAtStop = false }
}

// SetPhasing makes profilers place their CPU-wide samplers' timers as
// name says at Start instead of spread over a period (see phase.go):
// in-step, as-enabled (left as enabling them back to back left them),
// random (each at its own random offset), lagged (in step but CPU i
// i×10µs late) or spread. It returns a
// function that restores the default, and false for an unknown name.
// The benchmarks use it to tell what the phasing does to throughput and
// to the samples.
func SetPhasing(name string) (restore func(), ok bool) {
	for ph, n := range phasingNames {
		if n == name {
			old := timerPhasing
			timerPhasing = phasing(ph)
			return func() { timerPhasing = old }, true
		}
	}
	return func() {}, false
}

// PhasingNames are the names SetPhasing takes, the default first.
var PhasingNames = phasingNames[:]
