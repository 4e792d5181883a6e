// Package profile attaches perf_event_open counters and sampled kernel and
// user call stacks to the writer and the reader of a pipelab run, and
// builds pprof profiles from them.
//
// A Profiler satisfies bench.Observer: Attach opens disabled counters on
// every thread of both children while they wait on their start gate, and
// a disabled cpu-clock sampler on every CPU their threads may run on
// (samples are told apart by pid; see sampler.go for why not per thread);
// Start enables them, and Stop (called once the children have exited)
// drains the rings and reads the counters. Result symbolizes what was recorded:
// kernel frames through /proc/kallsyms under a [kernel.kallsyms] mapping,
// user frames through the ELF symbols of the mapped files.
//
// Profiles carry sample types samples/count and cpu/nanoseconds (period
// type cpu/nanoseconds) and the string labels role, mode, pid and tid, so
// `go tool pprof -tagroot=role` and `-tagfocus role=writer` work on them.
// pid and tid are string labels rather than numeric ones because pprof's
// tag filters and tag roots treat numeric labels as ranges with units.
//
// The wall view (Config.View "wall") also records every context switch of
// every thread, with its call stack and PERF_RECORD_SWITCH timestamps, and
// splits each role's wall time exactly into on-CPU and off-CPU time; its
// per-role wall profiles add an offcpu/nanoseconds sample type that
// charges each sleep to the stack the thread slept in (see wall.go). The
// cpu view opens no switch event and its profiles are the same in both
// views.
//
// profile never starts a process, never writes a file and never spells a
// flag of the command line (a *ConfigError names fields of Config): it
// observes the children bench starts and returns pprof values, which the
// caller saves (result.SaveStep). Of pipelab's packages it imports only
// result and internal/kallsyms.
package profile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	perf "github.com/elastic/go-perf"
	pprof "github.com/google/pprof/profile"
	"golang.org/x/sys/unix"

	"github.com/pipelab/pipelab/result"
)

// Config configures a Profiler.
type Config struct {
	// FreqHz is the cpu-clock sampling frequency in Hz; 0 is refused (the
	// command's --freq default is 999).
	FreqHz int
	// Mode is the value of the mode label of every sample.
	Mode string
	// View is "cpu" (the default when empty) or "wall".
	View string
	// Event is the sampled event: EventCycles, EventCPUClock, or "" for
	// cycles where a PMU exists and cpu-clock elsewhere.
	Event string
	// CountInline counts on the sampled threads themselves, as the wall
	// view does, for a caller with a single window (pipelab profile
	// --attach) rather than counted transfers of their own.
	CountInline bool
}

// Result is what a Profiler recorded over all its Attach/Start/Stop
// cycles.
type Result struct {
	// Roles holds the writer, then the reader.
	Roles []*Role
	// Warnings are non-fatal problems, one line each, e.g.
	// "cycles: not supported here (no hardware PMU)" or
	// "reader: 12 samples lost".
	Warnings []string
	// Kernel is the kernel release (uname -r).
	Kernel string
	// Duration is the time between Start and Stop, summed over cycles.
	Duration time.Duration
	// Counted is how many transfers carried the counters; CountedSeparately
	// says they were counted transfers of their own (the cpu view, see
	// Counting) rather than the profiled transfers (the wall view).
	Counted           int
	CountedSeparately bool
	// Event is the sampled event, EventCycles or EventCPUClock;
	// EventReason says why cpu-clock was chosen when Config.Event left it
	// to the profiler (e.g. no hardware PMU), else it is empty.
	Event, EventReason string
	// View is the view that ran: "cpu", or "wall" when Config.View asked
	// for it and the kernel allowed the context-switch events (else a
	// warning says what is missing and View is "cpu").
	View string
	// UserOnly says the kernel refused kernel-side events, so that every
	// sample is of user space: the time a role spent in the kernel, where
	// a pipe's work is done, took no samples.
	UserOnly bool
}

// Summaries are what a step saves of each role (result.RoleSummary), in
// the order of Roles, but for the names of the files the profiles go to,
// which the caller chooses.
func (res *Result) Summaries() []result.RoleSummary {
	var out []result.RoleSummary
	for _, r := range res.Roles {
		s := result.RoleSummary{Role: r.Name, PIDs: r.PIDs, Samples: r.Samples, Lost: r.Lost, Counters: r.Counters}
		if len(r.Counters) > 0 {
			s.CountedRuns = res.Counted
		}
		if r.Wall != nil {
			s.WallNanos, s.OnCPUNanos, s.OffCPUNanos, s.PreemptedNanos = r.WallNanos, r.OnCPUNanos, r.OffCPUNanos, r.PreemptedNanos
			s.Switches, s.Wakeups = r.Switches, r.Wakeups
			if r.Wake != nil && r.Wakers != nil {
				s.Wake = r.Wake.Summary()
			}
		}
		out = append(out, s)
	}
	return out
}

// Role is what was recorded for one side of the pipe.
type Role struct {
	// Name is "writer" or "reader".
	Name string
	// PIDs are the processes profiled in this role, one per cycle.
	PIDs []int
	// Counters are summed over the role's threads and counted transfers
	// (Result.Counted), in the order task-clock, context-switches,
	// cpu-migrations, page-faults, cycles, instructions, cache-misses,
	// dTLB-load-misses; nil when nothing was counted.
	Counters []result.Counter
	// Samples is how many samples arrived; Lost how many the kernel
	// dropped (PERF_RECORD_LOST and LOST_SAMPLES).
	Samples, Lost uint64
	// Profile holds this role's samples only; it passes CheckValid.
	Profile *pprof.Profile

	// The fields below are set in the wall view only. They follow each
	// process's transfer thread, the thread with the most on-CPU time,
	// over a window from Start (or, for a gated child asleep at Start,
	// from the gate opening) to the thread's exit (or Stop), summed over
	// cycles.

	// Wall is the role's wall profile: sample types samples/count
	// (cpu-clock samples), cpu/nanoseconds (OnCPUNanos, spread over the
	// stacks in proportion to their samples) and offcpu/nanoseconds (each
	// switch-out to switch-in interval, charged to the stack at
	// switch-out), with the labels of Profile, so its cpu and offcpu
	// totals add up to WallNanos. It passes CheckValid; nil in the cpu
	// view.
	Wall *pprof.Profile
	// WallNanos is the transfer threads' window; OnCPUNanos and
	// OffCPUNanos split it, measured from the context-switch timestamps.
	WallNanos, OnCPUNanos, OffCPUNanos int64
	// PreemptedNanos is the part of OffCPUNanos that followed involuntary
	// switch-outs: the thread was runnable, waiting for a CPU that another
	// task had.
	PreemptedNanos int64
	// Switches counts switch-outs; Wakeups the voluntary ones (sleeps the
	// thread was woken from).
	Switches, Wakeups uint64
	// Wake splits the sleeps by their wake-ups (sched:sched_waking) and
	// Wakers is the role's wakers profile (see wake.go); both nil unless
	// the wake-ups were recorded.
	Wake   *WakeFigures
	Wakers *pprof.Profile
}

// Profiler records counters and stacks of a writer and a reader. It is not
// safe for concurrent use, except that its ring readers run on their own.
type Profiler struct {
	cfg     Config
	release string
	// eventReason says why Config.Event "" became cpu-clock.
	eventReason string
	sym         *symbolizer
	roles       [2]*roleState

	warnings []string
	warned   map[string]bool
	// throttled counts the PERF_RECORD_THROTTLE records of the samplers:
	// periods the kernel stopped sampling because its perf interrupts
	// took too long (guarded by mu).
	throttled int
	hwOK      *bool // nil until probed on the first thread
	// userOnly is set once the kernel refused kernel-side events: every
	// event after that excludes the kernel.
	userOnly bool

	// attached is set from Attach to Stop.
	attached bool
	// countInline opens the counters on the children's threads in the
	// profiled transfers themselves: the wall view, whose switch events
	// hook every context switch anyway. In the cpu view the counters come
	// from transfers of their own (Counting), so that no per-task event
	// rides on the sampled children's context switches.
	countInline bool
	// counted is how many cycles carried counters.
	counted  int
	tids     []int           // the children's threads, of the current cycle
	threads  []*threadEvents // counters of the current cycle
	samplers []*sampler      // of the current cycle
	// pidRole maps the children's pids, and those of the processes they
	// fork, to their roles, for CPU-wide samplers; guarded by mu while
	// the rings are read.
	pidRole map[uint32]*roleState
	tasks   tasks     // the roles' processes and names (see tasks.go); guarded by mu
	wake    wakeState // who woke whom (wall view)
	cancel  context.CancelFunc
	readers sync.WaitGroup
	mu      sync.Mutex // guards roles' aggregates and sym while rings are read
	start   time.Time
	first   time.Time
	dur     time.Duration
	result  *Result
}

// roleState accumulates one role over cycles.
type roleState struct {
	name          string
	pids          []int
	agg           *aggregator
	counters      []result.Counter
	samples, lost uint64
	badRecords    int
	tids          []int           // of the current cycle
	threads       []*threadEvents // counters of the current cycle
	wall          *wallRole       // nil unless the wall view runs
}

// New validates cfg and loads the kernel symbol table. FreqHz must be
// between 1 and kernel.perf_event_max_sample_rate.
func New(cfg Config) (*Profiler, error) {
	if err := validate(&cfg); err != nil {
		return nil, err
	}
	reason, err := chooseEvent(&cfg, ProbePMU)
	if err != nil {
		return nil, err
	}
	p := &Profiler{cfg: cfg, release: KernelRelease(), warned: make(map[string]bool), pidRole: make(map[uint32]*roleState), tasks: newTasks(),
		countInline: cfg.View == "wall" || cfg.CountInline, eventReason: reason}
	kern, err := LoadKallsyms()
	if err != nil {
		p.warn(fmt.Sprintf("kernel symbols: %v; kernel frames stay addresses", err))
	}
	p.sym = newSymbolizer(kern)
	for i, name := range []string{"writer", "reader"} {
		p.roles[i] = &roleState{name: name, agg: newAggregator(), counters: newCounters()}
		if cfg.View == "wall" {
			p.roles[i].wall = &wallRole{}
		}
	}
	return p, nil
}

// ConfigError is a Config that New refuses: the field at fault, its value,
// what is wrong, and what to do, in words that name no field. Instead, a
// value of the same field that works, when there is one. Error renders
// the field by its Go name, and a command by its own flag name with
// Format.
type ConfigError struct {
	Field, Value, Problem, Remedy string
	Instead                       string
}

// Error renders "profile: FreqHz 0: out of range (use 1 to 100000 Hz,
// kernel.perf_event_max_sample_rate)".
func (e *ConfigError) Error() string {
	return e.Format(nil)
}

// Format renders the error with its field called by name(field), or by
// its Go name after "profile: " when name is nil: "profile: FIELD VALUE:
// PROBLEM (use FIELD INSTEAD; REMEDY)". A command's flag needs no
// package name (pipelab ladder's --freq is no flag of profile).
func (e *ConfigError) Format(name func(field string) string) string {
	field, s := e.Field, "profile: "+e.Field
	if name != nil {
		field = name(e.Field)
		s = field
	}
	if e.Value != "" {
		s += " " + e.Value
	}
	s += ": " + e.Problem
	remedy := e.Remedy
	if e.Instead != "" {
		remedy = "use " + field + " " + e.Instead + "; " + remedy
	}
	if remedy != "" {
		s += " (" + remedy + ")"
	}
	return s
}

// validate checks cfg and fills defaults.
func validate(cfg *Config) error {
	max, err := MaxSampleRate()
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	if cfg.FreqHz < 1 || cfg.FreqHz > max {
		return &ConfigError{Field: "FreqHz", Value: strconv.Itoa(cfg.FreqHz), Problem: "out of range", Remedy: fmt.Sprintf("use 1 to %d Hz, kernel.perf_event_max_sample_rate", max)}
	}
	switch cfg.View {
	case "":
		cfg.View = "cpu"
	case "cpu", "wall":
	default:
		return &ConfigError{Field: "View", Value: strconv.Quote(cfg.View), Problem: "unknown view", Remedy: "use cpu or wall"}
	}
	return nil
}

func newCounters() []result.Counter {
	cs := make([]result.Counter, len(allCounters))
	for i, c := range allCounters {
		cs[i] = result.Counter{Name: c.name, Supported: !c.hardware}
	}
	return cs
}

// KernelRelease returns uname -r, or "" when uname fails.
func KernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// warn records a warning once.
func (p *Profiler) warn(msg string) {
	if !p.warned[msg] {
		p.warned[msg] = true
		p.warnings = append(p.warnings, msg)
	}
}

// Attach opens disabled cpu-clock samplers on every CPU the writer and
// the reader may run on (or on every thread, where CPU-wide events are
// refused), in the wall view also the context-switch events and the
// counters on every thread, and reads the children's executable mappings.
// On error nothing stays open.
func (p *Profiler) Attach(writer, reader int) error {
	if p.attached {
		return errors.New("profile: attach: already attached (call Stop first)")
	}
	p.attached = true
	for i, pid := range []int{writer, reader} {
		if err := p.attachRole(p.roles[i], pid); err != nil {
			p.closeThreads()
			return fmt.Errorf("profile: attach %s: %w", p.roles[i].name, err)
		}
	}
	if err := p.openSamplers(); err != nil {
		p.closeThreads()
		return fmt.Errorf("profile: attach: %w", err)
	}
	return nil
}

// openSamplers opens the samplers of the current cycle: one per CPU the
// children's threads may run on, or, if CPU-wide events are refused, one
// per thread and CPU it may run on.
func (p *Profiler) openSamplers() error {
	cpus := cpusOf(p.tids)
	if len(cpus) == 0 {
		return fmt.Errorf("sched_getaffinity: no CPU found for threads %v", p.tids)
	}
	p.followSampleRate()
	ss, warns, err := openCPUSamplers(p.cfg.Event, cpus, p.cfg.FreqHz)
	if errors.Is(err, unix.EINVAL) && p.followSampleRate() { // lowered in between
		ss, warns, err = openCPUSamplers(p.cfg.Event, cpus, p.cfg.FreqHz)
	}
	if err == nil {
		p.samplers = ss
		p.warnAll(warns)
		return nil
	}
	if !refused(err) {
		return err
	}
	p.warn(fmt.Sprintf("%s: CPU-wide sampling refused (%v); sampling each thread instead, which costs the children a perf context switched out and in at every context switch", p.cfg.Event, err))
	for _, r := range p.roles {
		for _, tid := range r.tids {
			for _, cpu := range cpusOf([]int{tid}) {
				s, warns, err := openSampler(p.cfg.Event, tid, cpu, p.cfg.FreqHz, threadRingPages, p.userOnly)
				if p.degradeToUser(err) {
					s, warns, err = openSampler(p.cfg.Event, tid, cpu, p.cfg.FreqHz, threadRingPages, true)
				}
				if err != nil {
					return err
				}
				s.role = r
				p.samplers = append(p.samplers, s)
				p.warnAll(warns)
			}
		}
	}
	return nil
}

// followSampleRate brings a cycles profiler's frequency down to
// kernel.perf_event_max_sample_rate when the kernel has lowered that
// limit below it since New: it does when its perf interrupts take too
// long (under emulation, from 100000 to a few hundred Hz over a ladder),
// and perf_event_open refuses a frequency above the limit with EINVAL.
// It reports whether it did. Samples taken before keep the weight of
// the frequency they were taken at.
func (p *Profiler) followSampleRate() bool {
	if p.cfg.Event != EventCycles {
		return false
	}
	max, err := sampleRateLimit()
	if err != nil || max < 1 || max >= p.cfg.FreqHz {
		return false
	}
	p.warn(fmt.Sprintf("cycles: the kernel lowered kernel.perf_event_max_sample_rate to %d Hz, below the %d Hz asked for, as its perf interrupts took too long; sampled at %d Hz from then on", max, p.cfg.FreqHz, max))
	p.mu.Lock()
	p.cfg.FreqHz = max
	p.mu.Unlock()
	return true
}

// warnAll records each warning once.
func (p *Profiler) warnAll(ws []string) {
	for _, w := range ws {
		p.warn(w)
	}
}

// attachRole opens the events of one child.
func (p *Profiler) attachRole(r *roleState, pid int) error {
	maps, err := readProcMaps(pid)
	if err != nil {
		return err
	}
	tids, err := threadIDs(pid)
	if err != nil {
		return err
	}
	r.tids = tids
	p.tids = append(p.tids, tids...)
	if p.countInline {
		if err := p.openCounters(r, tids); err != nil {
			return err
		}
	}
	r.pids = append(r.pids, pid)
	p.pidRole[uint32(pid)] = r
	p.seedComms(pid, tids)
	sp := p.sym.space(uint32(pid))
	for _, m := range maps {
		sp.add(m)
	}
	sp.exe, _ = os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	p.attachWall(r, pid, tids)
	return nil
}

// openCounters opens the counters on every thread of tids for role r.
func (p *Profiler) openCounters(r *roleState, tids []int) error {
	for _, tid := range tids {
		t, err := p.openThread(tid)
		if err != nil {
			return err
		}
		r.threads = append(r.threads, t)
		p.threads = append(p.threads, t)
	}
	return nil
}

// openThread opens the counters on one thread. Hardware counters are
// tried on the first thread only; if refused they are reported once and
// not tried again.
func (p *Profiler) openThread(tid int) (*threadEvents, error) {
	t := &threadEvents{tid: tid, counters: make([]*perf.Event, len(allCounters))}
	for i, c := range allCounters {
		if c.hardware && p.hwOK != nil && !*p.hwOK {
			continue
		}
		attr := counterAttr(c)
		if p.userOnly {
			excludeKernel(&attr)
		}
		ev, err := perf.Open(&attr, tid, perf.AnyCPU, nil)
		if err != nil && !c.hardware && p.degradeToUser(openError(c.name, tid, err)) {
			excludeKernel(&attr)
			ev, err = perf.Open(&attr, tid, perf.AnyCPU, nil)
		}
		if err != nil {
			err = openError(c.name, tid, err)
			if c.hardware && errors.Is(err, ErrNotSupported) {
				p.warn(c.name + ": " + p.unsupportedCounter(t))
				continue
			}
			t.close()
			return nil, err
		}
		t.counters[i] = ev
	}
	if p.hwOK == nil {
		ok := t.counters[len(softwareCounters)] != nil
		p.hwOK = &ok
	}
	return t, nil
}

// unsupportedCounter says why a hardware counter does not open: no PMU,
// or a PMU (cycles opened, on t or on an earlier thread) that does not
// count it (QEMU's emulated PMUv3 counts instructions only with -icount).
func (p *Profiler) unsupportedCounter(t *threadEvents) string {
	if t.counters[len(softwareCounters)] != nil || (p.hwOK != nil && *p.hwOK) {
		return "not counted by this PMU"
	}
	return "not supported here (no hardware PMU)"
}

// closeThreads closes every event of the current cycle.
func (p *Profiler) closeThreads() {
	for _, t := range p.threads {
		t.close()
	}
	closeSamplers(p.samplers)
	p.samplers = nil
	p.threads = nil
	p.tids = nil
	p.attached = false
	for _, r := range p.roles {
		r.threads = nil
		r.tids = nil
		if r.wall != nil {
			r.wall.closeEvents()
		}
	}
}

// degradeToUser reports whether err is the kernel refusing kernel-side
// events for the first time; if so every later event excludes the kernel
// and the user is told once. The caller then opens its event again.
func (p *Profiler) degradeToUser(err error) bool {
	if err == nil || !refused(err) || p.userOnly {
		return false
	}
	p.userOnly = true
	p.warn(fmt.Sprintf(userOnlyWarning, err))
	return true
}
