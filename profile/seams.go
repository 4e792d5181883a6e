package profile

import perf "github.com/elastic/go-perf"

// The seams below let tests play what this machine does not do, or
// measure the profiler against variants of itself. Production code never
// sets them: only the tests do, through export_test.go,
// ring_export_test.go and wake_fixture_test.go. openSwitch (switch.go)
// and openWakes (wake.go) are seams of the same kind. readAtStop and
// timerPhasing are read at Start, so a test may set them around one
// profiler's Start to give two profilers of one transfer different ones.

// sampleRateLimit reads kernel.perf_event_max_sample_rate for
// followSampleRate; tests give it a kernel that lowered the limit.
var sampleRateLimit = MaxSampleRate

// openCPUSamplers opens the CPU-wide samplers (openCPUWideSamplers);
// RefuseCPUWide replaces it to make the profiler take its per-thread
// fallback.
var openCPUSamplers = openCPUWideSamplers

// readAtStop leaves the rings unread until Stop, so that nothing of the
// profiler runs during the transfer: BenchmarkOverhead's sampling-only
// reference (DeferReading).
var readAtStop bool

// timerPhasing is where Start places the CPU-wide samplers' timers (see
// phase.go): spread over a period; the benchmarks measure the other
// phasings against it (SetPhasing).
var timerPhasing = phaseSpread

// fixtureTap, when set, is handed what the join works from, as the wall
// view gets it: the cycle's switch rings in the wall view's order with
// the window start, every raw record of those rings and of the wake
// rings, and each thread's window end. wake_fixture_test.go sets it to
// capture testdata from a real run; it is nil otherwise. The rings'
// readers call it at once.
var fixtureTap interface {
	ring(role string, se *switchEvent, startNS int64)
	switchRecord(se *switchEvent, raw *perf.RawRecord)
	wakeRecord(cpu int, raw *perf.RawRecord)
	windowEnd(tl *timeline)
}
