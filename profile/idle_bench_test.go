package profile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pipelab/pipelab/bench"
)

// idleWatch is a bench.Observer around another one (or none) that
// counts, between Start and Stop, how often the given CPUs entered an
// idle state that is not polling (a halt, in a guest with haltpoll) and
// how long they stayed there, from the cpuidle statistics in sysfs. It
// tells the idle effect in numbers: a sampler's timer that keeps a CPU
// out of halt shows as fewer halts.
type idleWatch struct {
	inner  bench.Observer // may be nil
	cpus   []int
	halts  int64 // entries into a non-polling idle state
	haltUS int64 // time in those states, µs
	start  time.Time
	dur    time.Duration
}

func (w *idleWatch) Attach(writer, reader int) error {
	if w.inner == nil {
		return nil
	}
	return w.inner.Attach(writer, reader)
}

func (w *idleWatch) Start() error {
	if w.inner != nil {
		if err := w.inner.Start(); err != nil {
			return err
		}
	}
	n, us := haltStats(w.cpus)
	w.halts, w.haltUS, w.start = -n, -us, time.Now()
	return nil
}

func (w *idleWatch) Stop() error {
	if !w.start.IsZero() {
		n, us := haltStats(w.cpus)
		w.halts += n
		w.haltUS += us
		w.dur = time.Since(w.start)
	}
	if w.inner == nil {
		return nil
	}
	return w.inner.Stop()
}

// haltsPerSec is how often per second each watched CPU halted, on
// average; -1 when nothing was watched.
func (w *idleWatch) haltsPerSec() float64 {
	if len(w.cpus) == 0 || w.dur <= 0 {
		return -1
	}
	return float64(w.halts) / w.dur.Seconds() / float64(len(w.cpus))
}

// haltedShare is the share of the watched CPUs' time spent halted.
func (w *idleWatch) haltedShare() float64 {
	if len(w.cpus) == 0 || w.dur <= 0 {
		return 0
	}
	return float64(w.haltUS) / float64(w.dur.Microseconds()) / float64(len(w.cpus))
}

// haltStats sums, over cpus, the entries into and microseconds spent in
// every cpuidle state but POLL (/sys/devices/system/cpu/cpuN/cpuidle).
func haltStats(cpus []int) (entries, us int64) {
	for _, cpu := range cpus {
		states, _ := filepath.Glob(fmt.Sprintf("/sys/devices/system/cpu/cpu%d/cpuidle/state*", cpu))
		for _, s := range states {
			if readTrim(filepath.Join(s, "name")) == "POLL" {
				continue
			}
			n, _ := strconv.ParseInt(readTrim(filepath.Join(s, "usage")), 10, 64)
			t, _ := strconv.ParseInt(readTrim(filepath.Join(s, "time")), 10, 64)
			entries += n
			us += t
		}
	}
	return entries, us
}

// readTrim returns a sysfs file's content without its newline, "" when
// it cannot be read.
func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// pinnedCPUs returns the CPUs o pins its children to.
func pinnedCPUs(o bench.Options) []int {
	var cpus []int
	for _, c := range []int{o.PinWriter, o.PinReader} {
		if c >= 0 {
			cpus = append(cpus, c)
		}
	}
	return cpus
}
