package main

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/profile"
	"github.com/pipelab/pipelab/report"
)

// collectEnv describes this machine for ladder.json and report.md. Facts
// that cannot be read are left empty (or -1) rather than failing the run.
func collectEnv() report.Env {
	e := report.Env{
		Kernel:    profile.KernelRelease(),
		CPUModel:  cpuModel(),
		CPUs:      runtime.NumCPU(),
		GoVersion: runtime.Version(),
		Time:      time.Now().UTC().Truncate(time.Second),
		PMU:       "software only",
	}
	e.THP, _ = bench.THPMode()
	if profile.ProbeHardwareCounters() == nil {
		e.PMU = "hardware"
	}
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
