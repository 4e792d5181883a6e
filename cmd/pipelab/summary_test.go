package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/result"
)

// countedRole is a role whose counted transfers moved 2 × 1GiB with the
// hardware counters given (name → count), each counter opened only when
// it has a count.
func countedRole(name string, counts map[string]float64) result.RoleSummary {
	r := result.RoleSummary{Role: name, CountedRuns: 2}
	for _, n := range []string{"task-clock", "context-switches", "cpu-migrations", "page-faults", "cycles", "instructions", "cache-misses", "dTLB-load-misses"} {
		v, ok := counts[n]
		r.Counters = append(r.Counters, result.Counter{Name: n, Supported: ok, Value: v})
	}
	r.SetPerByte(1 << 30)
	return r
}

// TestCountersPerByte prints the counter table of a step whose PMU counts
// cycles and instructions (bare metal), and of one whose PMU counts cycles
// only (QEMU's emulated PMUv3, which counts instructions only under
// -icount): cycles per byte moved where counted, instructions per byte and
// per cycle only where instructions were.
func TestCountersPerByte(t *testing.T) {
	sw := map[string]float64{"task-clock": 1e9, "context-switches": 10, "cpu-migrations": 0, "page-faults": 5}
	with := func(m map[string]float64) map[string]float64 {
		out := map[string]float64{}
		for k, v := range sw {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	for _, tt := range []struct {
		name           string
		writer, reader map[string]float64
		want, not      []string
	}{
		{"cycles and instructions",
			with(map[string]float64{"cycles": 3 << 30, "instructions": 6 << 30}), with(map[string]float64{"cycles": 1 << 30, "instructions": 1 << 30}),
			[]string{"cycles/byte 1.50 0.50", "instructions/byte 3.00 0.50", "instructions/cycle 2.00 1.00", "cycles 3221225472 1073741824 1610612736.0 536870912.0"},
			nil},
		{"cycles only",
			with(map[string]float64{"cycles": 5 << 30}), with(map[string]float64{"cycles": 4 << 30}),
			[]string{"cycles/byte 2.50 2.00", "instructions not supported here"},
			[]string{"instructions/byte", "instructions/cycle"}},
		{"no PMU", sw, sw, []string{"cycles not supported here"}, []string{"/byte", "/cycle"}},
	} {
		step := &result.Step{Roles: []result.RoleSummary{countedRole("writer", tt.writer), countedRole("reader", tt.reader)}}
		step.Bytes = 1 << 30
		var b bytes.Buffer
		printCounters(&b, step)
		var lines []string
		for _, l := range strings.Split(b.String(), "\n") {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
		got := strings.Join(lines, "\n")
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: no line %q in\n%s", tt.name, w, b.String())
			}
		}
		for _, n := range tt.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: %q in\n%s", tt.name, n, b.String())
			}
		}
	}
}
