package result

import (
	"errors"
	"fmt"
	"time"
)

// FormatVersion is the version of the exchange format this pipelab writes
// into ladder.json and MODE.json: 1 is the files without a version field,
// 2 adds the version, the idle driver, pipelab's own version and each
// step's environment. A reader takes every version from 1 to
// FormatVersion; a file from a newer pipelab is refused.
const FormatVersion = 2

// ErrVersion means a ladder.json or MODE.json has a format version this
// pipelab cannot read.
var ErrVersion = errors.New("unknown format version")

// checkVersion returns an error wrapping ErrVersion unless v (0 meaning a
// file from before the field, version 1) is one this pipelab reads.
func checkVersion(v int) error {
	if v >= 0 && v <= FormatVersion {
		return nil
	}
	return fmt.Errorf("%w %d (this pipelab reads versions 1 to %d; read it with a newer pipelab)", ErrVersion, v, FormatVersion)
}

// Env describes the machine a ladder or a step ran on.
type Env struct {
	// Kernel is the kernel release (uname -r).
	Kernel string `json:"kernel"`
	// Arch is the architecture, as Go names it: "amd64", "arm64"; empty
	// in files from before the field.
	Arch     string `json:"arch,omitempty"`
	CPUModel string `json:"cpu_model"`
	CPUs     int    `json:"cpus"`
	// Emulation is EmulationNote's sentence when the CPU is emulated
	// (QEMU's TCG), so that nobody reads the folder's timings as the
	// hardware's; EmulationEvidence says what told. Both are empty on
	// real and hardware-virtualized CPUs.
	Emulation         string `json:"emulation,omitempty"`
	EmulationEvidence string `json:"emulation_evidence,omitempty"`
	// IdleDriver is /sys/devices/system/cpu/cpuidle/current_driver, e.g.
	// "haltpoll"; empty when the machine has none or before version 2.
	IdleDriver string `json:"idle_driver,omitempty"`
	// THP is the transparent huge page mode, e.g. "madvise".
	THP string `json:"thp"`
	// PMU is "hardware" (cycles counts and samples), "counts, cannot
	// sample" (a PMU without an overflow interrupt) or "software only".
	PMU               string `json:"pmu"`
	PerfEventParanoid int    `json:"perf_event_paranoid"`
	KptrRestrict      int    `json:"kptr_restrict"`
	// PipeMaxSize is /proc/sys/fs/pipe-max-size in bytes.
	PipeMaxSize int    `json:"pipe_max_size"`
	GoVersion   string `json:"go_version"`
	// Pipelab is the version of the pipelab binary that measured, from its
	// build information (module version, or the VCS revision of a
	// development build); empty before version 2.
	Pipelab string    `json:"pipelab,omitempty"`
	Time    time.Time `json:"time"`
}

// EmulationNote is what every output says of a result measured on a CPU
// that emulator emulates: "emulated CPU (QEMU TCG): timings are not the
// hardware's".
func EmulationNote(emulator string) string {
	return "emulated CPU (" + emulator + "): timings are not the hardware's"
}

// Ladder is the file OUT/ladder.json: the environment and every step in
// the order they ran. docs/files.md ("ladder.json and MODE.json, the
// exchange format") documents it.
type Ladder struct {
	// Version is the exchange format's version (FormatVersion when
	// written by this pipelab); 0, a file from before the field, reads as
	// version 1.
	Version int `json:"version,omitempty"`
	Env     Env `json:"env"`
	// Planned names the steps the ladder set out to run, in order; empty
	// in files from before the field.
	Planned []string `json:"planned,omitempty"`
	// Status is empty once the ladder ran all it planned, else one of
	// the Status* constants.
	Status string `json:"status,omitempty"`
	Steps  []Step `json:"steps"`
	// Ceilings are the limits the ladder measured beside its steps
	// (Ceilings of Steps), so that a comparison of ladders from two
	// machines sets each against its own; empty in files from before the
	// field and in ladders that ran no ceiling step.
	Ceilings []Ceiling `json:"ceilings,omitempty"`
	// Skipped are the steps asked for that this machine cannot run (a
	// kernel without transparent huge pages), in the order asked; the
	// others ran. Planned leaves them out.
	Skipped []Skip `json:"skipped,omitempty"`
}

// Skip is a step a ladder left out because this machine or kernel lacks
// what it needs.
type Skip struct {
	// Mode is the step's name.
	Mode string `json:"mode"`
	// Reason says what is missing and what to do, e.g. "needs transparent
	// huge pages, which are off: ... is never (echo madvise > ...)".
	Reason string `json:"reason"`
}

// A Ladder's Status. pipelab ladder writes ladder.json with
// StatusRunning before its first transfer and again, with the steps and
// the final status, at its end; a folder whose ladder.json still says
// running is one whose pipelab was killed (or still runs).
const (
	StatusRunning     = "running"
	StatusInterrupted = "interrupted"
	StatusFailed      = "failed"
)
