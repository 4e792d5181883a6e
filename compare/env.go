package compare

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pipelab/pipelab/result"
)

// field is one named value of an environment or of a step's settings.
type field struct {
	name, value string
}

// envFields are the environment facts a comparison sets side by side, in
// the order the header lists them; nil for a folder that recorded none.
func envFields(e *result.Env) []field {
	if e == nil {
		return nil
	}
	cpu := e.CPUModel
	if cpu == "" {
		cpu = "unknown CPU"
	}
	return []field{
		{"cpu", fmt.Sprintf("%s ×%d", cpu, e.CPUs)},
		{"kernel", e.Kernel},
		{"arch", e.Arch},
		{"emulation", emulationField(e)},
		{"idle_driver", e.IdleDriver},
		{"thp", e.THP},
		{"pmu", e.PMU},
		{"pipelab", e.Pipelab},
		{"go_version", e.GoVersion},
	}
}

// emulationField is a folder's emulation for comparison: its note, or
// "none" where the pipelab that wrote it checked (files that record the
// architecture, which came with the check), else unknown.
func emulationField(e *result.Env) string {
	if e.Emulation == "" && e.Arch != "" {
		return "none"
	}
	return e.Emulation
}

// stepSettings are the settings that shape what a step measures: its
// Settings but the mode (the same in every folder compared) and the
// repeat count (it changes how many runs there are, not what one run
// measures), and how it was profiled: the view, the sampled event, and
// whether the runs timed profiled or unprofiled transfers. A new field of Settings that changes
// what a run measures belongs here too.
func stepSettings(s *result.Step) []field {
	b := strconv.FormatBool
	return []field{
		{"bytes", result.SizeName(s.Bytes)},
		{"buf_size", result.SizeName(s.BufSize)},
		{"pipe_size", result.SizeName(s.PipeSize)},
		{"buf_offset", strconv.Itoa(s.BufOffset)},
		{"busy", b(s.Busy)},
		{"poll", b(s.Poll)},
		{"huge", b(s.Huge)},
		{"check_huge", b(s.CheckHuge)},
		{"gift", b(s.Gift)},
		{"lock_memory", b(s.LockMemory)},
		{"dont_touch_pages", b(s.DontTouchPages)},
		{"same_buffer", b(s.SameBuffer)},
		{"pin", fmt.Sprintf("%d,%d", s.PinWriter, s.PinReader)},
		{"verify", b(s.Verify)},
		{"rewrite_after_splice", b(s.RewriteAfterSplice)},
		{"consume", b(s.Consume)},
		{"ring_size", result.SizeName(s.RingSize)},
		{"streaming", b(s.Streaming)},
		{"view", orNone(s.View)},
		{"event", sampledEvent(s)},
		{"throughput_from", throughputFrom(s)},
		{"strategy", orNone(s.Strategy)},
		{"writer_cmd", orNone(s.WriterCmd)},
		{"reader_cmd", orNone(s.ReaderCmd)},
	}
}

// sampledEvent is the event a profiled step sampled: cpu-clock in files
// from before the field, "none" when not profiled.
func sampledEvent(s *result.Step) string {
	switch {
	case s.Event != "":
		return s.Event
	case s.View != "":
		return "cpu-clock"
	}
	return "none"
}

// throughputFrom says which transfers a step's runs timed: files from
// before the field timed the profiled transfers when profiled.
func throughputFrom(s *result.Step) string {
	switch {
	case s.ThroughputFrom != "":
		return s.ThroughputFrom
	case s.View != "":
		return "profiled"
	}
	return "unprofiled"
}

// orNone spells an empty setting "none" (no view, no command).
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// diffFields returns the fields with two different known values among
// the entries of per: a nil entry (a folder that recorded nothing) is
// unknown, and so is an empty value when emptyUnknown is set (an
// environment field an older version did not record); a setting's empty
// value is a value.
func diffFields(per [][]field, emptyUnknown bool) []FieldDiff {
	var names []string
	for _, fs := range per {
		if fs != nil {
			for _, f := range fs {
				names = append(names, f.name)
			}
			break
		}
	}
	var out []FieldDiff
	for k, name := range names {
		d := FieldDiff{Field: name, Values: make([]string, len(per))}
		seen := map[string]bool{}
		for i, fs := range per {
			if fs != nil {
				d.Values[i] = fs[k].value
				if fs[k].value != "" || !emptyUnknown {
					seen[fs[k].value] = true
				}
			}
		}
		if len(seen) > 1 {
			out = append(out, d)
		}
	}
	return out
}

// settingDiffs compares the settings of one step across the folders that
// have it.
func settingDiffs(steps []*result.Step) []FieldDiff {
	per := make([][]field, len(steps))
	for i, s := range steps {
		if s != nil {
			per[i] = stepSettings(s)
		}
	}
	return diffFields(per, false)
}

// envDiffs compares the folders' environments and sums them up in one
// line: "same machine, kernel 6.17.2 vs 6.18.4", "same kernel, different
// CPUs: A ×2 vs B ×8", "same machine, same kernel".
func envDiffs(folders []LadderFolder) ([]FieldDiff, string) {
	per := make([][]field, len(folders))
	var unknown []string
	for i, f := range folders {
		if per[i] = envFields(f.Env); per[i] == nil {
			unknown = append(unknown, f.Name)
		}
	}
	diffs := diffFields(per, true)
	differs := map[string]FieldDiff{}
	for _, d := range diffs {
		differs[d.Field] = d
	}
	var same, other []string
	if d, ok := differs["cpu"]; ok {
		other = append(other, "different CPUs: "+vs(d.Values))
	} else if len(unknown) < len(folders) {
		same = append(same, "same machine")
	}
	if d, ok := differs["kernel"]; ok {
		other = append(other, "kernel "+vs(d.Values))
	} else if len(unknown) < len(folders) {
		same = append(same, "same kernel")
	}
	for _, d := range diffs {
		if d.Field != "cpu" && d.Field != "kernel" {
			other = append(other, strings.ReplaceAll(d.Field, "_", " ")+" "+vs(d.Values))
		}
	}
	if len(unknown) > 0 {
		other = append(other, "no environment recorded in "+strings.Join(unknown, ", "))
	}
	return diffs, strings.Join(append(same, other...), ", ")
}

// vs joins values with " vs ", "?" for an unknown one.
func vs(values []string) string {
	out := make([]string, len(values))
	for i, v := range values {
		if out[i] = v; v == "" {
			out[i] = "?"
		}
	}
	return strings.Join(out, " vs ")
}
