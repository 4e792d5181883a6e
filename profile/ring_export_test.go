package profile

import (
	"fmt"

	perf "github.com/elastic/go-perf"
	"golang.org/x/sys/unix"
)

// RefuseCPUWide makes CPU-wide samplers fail to open as a kernel that
// refuses them does (EACCES), so the profiler takes its fallback, one
// sampler per thread, and returns a function that restores them.
func RefuseCPUWide() (restore func()) {
	old := openCPUSamplers
	openCPUSamplers = func(string, []int, int) ([]*sampler, []string, error) {
		return nil, nil, fmt.Errorf("perf_event_open cpu-clock cpu 0: %w", unix.EACCES)
	}
	return func() { openCPUSamplers = old }
}

// CPUSampleTimes opens a CPU-wide cpu-clock sampler at freqHz on each of
// cpus, starts them as Start does, runs busy, and returns the perf-clock
// time of every sample, of whichever task ran (not the idle task), by
// CPU, and whether the start reported the timers placed as Start places
// them (phaseSpread).
func CPUSampleTimes(cpus []int, freqHz int, busy func()) (map[int][]uint64, bool, error) {
	ss, _, err := openCPUWideSamplers(EventCPUClock, cpus, freqHz)
	if err != nil {
		return nil, false, err
	}
	defer closeSamplers(ss)
	placed, err := enableSamplers(ss, phaseSpread)
	if err != nil {
		return nil, false, err
	}
	busy()
	times := map[int][]uint64{}
	for _, s := range ss {
		s.ev.Disable()
		var raw perf.RawRecord
		var rec record
		for s.ev.HasRecord() {
			if err := s.ev.ReadRawRecord(expiredCtx(), &raw); err != nil {
				return nil, false, err
			}
			if err := decodeBody(uint32(raw.Header.Type), uint16(raw.Header.Misc), raw.Data, &rec); err != nil {
				return nil, false, err
			}
			if rec.typ == recordSample && rec.pid != 0 {
				times[s.cpu] = append(times[s.cpu], rec.time)
			}
		}
	}
	return times, placed, nil
}
