package profile

import perf "github.com/elastic/go-perf"

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

// Unphased makes profilers leave their CPU-wide samplers' timers as
// enabling them back to back left them, instead of restarting them in
// step (rephase), and returns a function that restores rephasing:
// BenchmarkOverhead's "unphased" variant, which tells what rephasing does
// to throughput.
func Unphased() (restore func()) {
	timersUnphased = true
	return func() { timersUnphased = false }
}
