package profile

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	perf "github.com/elastic/go-perf"
)

// counterSpec names one counting event.
type counterSpec struct {
	name     string
	typ      perf.EventType
	config   uint64
	hardware bool // needs a PMU; optional
}

// softwareCounters always open where perf_event_open works at all.
var softwareCounters = []counterSpec{
	{"task-clock", perf.SoftwareEvent, uint64(perf.TaskClock), false},
	{"context-switches", perf.SoftwareEvent, uint64(perf.ContextSwitches), false},
	{"cpu-migrations", perf.SoftwareEvent, uint64(perf.CPUMigrations), false},
	{"page-faults", perf.SoftwareEvent, uint64(perf.PageFaults), false},
}

// hardwareCounters need a PMU; a VM without one refuses them.
var hardwareCounters = []counterSpec{
	{"cycles", perf.HardwareEvent, uint64(perf.CPUCycles), true},
	{"instructions", perf.HardwareEvent, uint64(perf.Instructions), true},
	{"cache-misses", perf.HardwareEvent, uint64(perf.CacheMisses), true},
	// PERF_COUNT_HW_CACHE_DTLB | OP_READ << 8 | RESULT_MISS << 16.
	{"dTLB-load-misses", perf.HardwareCacheEvent,
		uint64(perf.DTLB) | uint64(perf.Read)<<8 | uint64(perf.Miss)<<16, true},
}

// allCounters lists every counter in report order.
var allCounters = append(append([]counterSpec{}, softwareCounters...), hardwareCounters...)

// counterAttr configures a disabled counting event with enabled and
// running times, so multiplexed counts can be scaled. Inherit makes the
// event count the threads and processes its thread creates after it was
// opened too (an external command's pipeline, a program's workers); a
// read then sums them. pipelab's own children create none once gated.
func counterAttr(c counterSpec) perf.Attr {
	return perf.Attr{
		Label:       c.name,
		Type:        c.typ,
		Config:      c.config,
		CountFormat: perf.CountFormat{Enabled: true, Running: true},
		Options:     perf.Options{Disabled: true, Inherit: true},
	}
}

// sampleFormat is the PERF_RECORD_SAMPLE layout decodeSample expects.
var sampleFormat = perf.SampleFormat{IP: true, Tid: true, Time: true, Period: true, Callchain: true}

// Sampled events. cpu-clock is a software timer (hrtimer) event: it works
// everywhere, but its interrupt cannot fire while interrupts are off, so
// in a VM without a PMU a sample due in an irq-off section lands where
// interrupts come back on (_raw_spin_unlock_irqrestore, finish_task_switch,
// ...). cycles is the hardware cycle counter, whose overflow interrupt is
// an NMI on x86 and is not held back by irq-off sections.
const (
	EventCPUClock = "cpu-clock"
	EventCycles   = "cycles"
)

// samplingAttr configures sampling of event (EventCPUClock or
// EventCycles) at freqHz with callchains and the side-band records
// symbolization needs. Inherit is set by openSampler for the per-thread
// samplers, each bound to one CPU (the kernel mmaps an inherited per-task
// event only then). No PreciseIP. ExcludeIdle keeps a CPU-wide ring free
// of the idle task's samples. Wakeup stays 0: the reader is woken when
// half the ring is full (see ring.go).
func samplingAttr(event string, freqHz int) perf.Attr {
	a := perf.Attr{
		Label:        event,
		Type:         perf.SoftwareEvent,
		Config:       uint64(perf.CPUClock),
		SampleFormat: sampleFormat,
		Options: perf.Options{
			Disabled:    true,
			Mmap:        true,
			Mmap2:       true,
			Comm:        true,
			Task:        true,
			SampleIDAll: true,
			ExcludeIdle: true,
		},
	}
	if event == EventCycles {
		// A cycle count per sample is not known in advance: the kernel
		// adjusts the period to reach freqHz samples per second of CPU.
		a.Type, a.Config = perf.HardwareEvent, uint64(perf.CPUCycles)
		a.SetSampleFreq(uint64(freqHz))
		return a
	}
	a.SetSamplePeriod(samplePeriodNS(freqHz))
	return a
}

// samplePeriodNS is the cpu-clock period for freqHz. cpu-clock is a
// timer, so the kernel turns a frequency into this fixed period anyway
// (perf_swevent_init_hrtimer); giving the period makes
// PERF_EVENT_IOC_PERIOD, which rephase uses, mean nanoseconds.
func samplePeriodNS(freqHz int) uint64 {
	return uint64(time.Second) / uint64(freqHz)
}

// excludeKernel makes a an event of user space only: what an unprivileged
// user may open on its own processes at kernel.perf_event_paranoid 2.
func excludeKernel(a *perf.Attr) {
	a.Options.ExcludeKernel = true
	a.Options.ExcludeHypervisor = true
	a.Options.ExcludeKernelCallchain = true
}

// userOnlyWarning is said once when the kernel refuses kernel-side events.
const userOnlyWarning = "kernel side refused, counting and sampling user space only: profiles hold user stacks and no kernel frames (%v)"

// threadEvents are the counters opened on one thread of a child. Its
// samples come from the CPU-wide samplers (or a per-thread one, see
// ring.go).
type threadEvents struct {
	tid      int
	counters []*perf.Event // parallel to allCounters; nil when not open
}

// close releases every event of the thread.
func (t *threadEvents) close() {
	for _, c := range t.counters {
		if c != nil {
			c.Close()
		}
	}
}

// enable starts counting on the thread.
func (t *threadEvents) enable() error {
	for _, c := range t.counters {
		if c != nil {
			if err := c.Enable(); err != nil {
				return fmt.Errorf("enable counter tid %d: %w", t.tid, err)
			}
		}
	}
	return nil
}

// threadIDs lists the threads of pid from /proc/PID/task.
func threadIDs(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return nil, fmt.Errorf("list threads of pid %d: %w", pid, err)
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	sort.Ints(tids)
	return tids, nil
}

// expiredCtx returns a cancelled context: ReadRawRecord then returns what
// the ring holds and never blocks.
func expiredCtx() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
