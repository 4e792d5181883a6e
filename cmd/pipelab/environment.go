package main

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/internal/emulation"
	"github.com/pipelab/pipelab/profile"
	"github.com/pipelab/pipelab/result"
)

// collectEnv describes this machine for ladder.json and report.md. Facts
// that cannot be read are left empty (or -1) rather than failing the run.
func collectEnv() result.Env {
	e := result.Env{
		Kernel:     profile.KernelRelease(),
		Arch:       runtime.GOARCH,
		CPUModel:   cpuModel(),
		CPUs:       runtime.NumCPU(),
		IdleDriver: idleDriver(),
		GoVersion:  runtime.Version(),
		Pipelab:    pipelabVersion(),
		Time:       time.Now().UTC().Truncate(time.Second),
	}
	if cpu := emulation.Detect(); cpu.Emulated() {
		e.Emulation, e.EmulationEvidence = result.EmulationNote(cpu.Emulator), cpu.Evidence
	}
	e.THP, _ = bench.THPMode()
	pmu, _ := profile.ProbePMU()
	e.PMU = pmu.String()
	var err error
	if e.PerfEventParanoid, err = profile.Paranoid(); err != nil {
		e.PerfEventParanoid = -1
	}
	if e.KptrRestrict, err = profile.KptrRestrict(); err != nil {
		e.KptrRestrict = -1
	}
	if e.PipeMaxSize, err = bench.PipeMaxSize(); err != nil {
		e.PipeMaxSize = -1
	}
	return e
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// idleDriver is the cpuidle driver in use (e.g. haltpoll, intel_idle),
// "none" when the kernel has none, empty when it cannot be read.
func idleDriver() string {
	b, err := os.ReadFile("/sys/devices/system/cpu/cpuidle/current_driver")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// pipelabVersion is this binary's version from its build information: the
// module version of an installed release, else "devel" with the VCS
// revision (and "+dirty" for uncommitted changes) of a build from a
// checkout, else "devel".
func pipelabVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "+dirty"
		}
	}
	if rev == "" {
		return "devel"
	}
	return "devel " + rev[:min(12, len(rev))] + dirty
}
