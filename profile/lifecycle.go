package profile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	perf "github.com/elastic/go-perf"
	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/result"
)

// Start enables every event of the current cycle and starts one ring
// reader per sampler (ReadRawRecord is not safe for concurrent use on one
// event). Call it right before the children's gate opens.
func (p *Profiler) Start() error {
	if !p.attached {
		return errors.New("profile: start: not attached (call Attach first)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	for _, s := range p.samplers {
		p.readers.Add(1)
		go p.readRing(ctx, s, readAtStop) // the seams are read at Start, not later
	}
	p.start = time.Now()
	if p.first.IsZero() {
		p.first = p.start
	}
	// The wall view's window starts once its events are enabled: after
	// the slow opening of the wake-up events and after the counters, so
	// that task-clock covers it (see startWall).
	p.startWakes(ctx)
	for _, t := range p.threads {
		if err := t.enable(); err != nil {
			return fmt.Errorf("profile: start: %w", err)
		}
	}
	if err := p.startWall(ctx); err != nil {
		return fmt.Errorf("profile: start: %w", err)
	}
	placed, err := enableSamplers(p.samplers, timerPhasing)
	if err != nil {
		return fmt.Errorf("profile: start: %w", err)
	}
	if !placed {
		p.warn(fmt.Sprintf("the samplers' timers could not be placed %s (the machine was too busy to run a pinned thread on time); samples taken a few microseconds apart on the writer's and the reader's CPUs catch either side waiting for the other more often than it does", timerPhasing.describe()))
	}
	return nil
}

// Stop drains the rings, reads the counters and closes every event of the
// cycle. bench calls it once the children have exited, so the rings hold
// everything. Samples and counters accumulate over cycles.
func (p *Profiler) Stop() error {
	if !p.attached {
		return nil
	}
	if len(p.threads) > 0 {
		p.counted++
	}
	stopNS := monotonicNS()
	if !p.start.IsZero() {
		p.dur += time.Since(p.start)
		p.start = time.Time{}
	}
	if p.cancel != nil {
		p.cancel()
		p.readers.Wait()
		p.cancel = nil
	}
	p.settle()
	p.stopWall(stopNS)
	for _, r := range p.roles {
		p.readCounters(r)
	}
	p.closeThreads()
	p.result = nil
	return nil
}

// handle decodes one raw record of an event of format f, taken on cpu
// (-1: not known unless the record says), and accounts it to role r; r is
// nil for a sample or mapping of a pid that no role knows yet (see
// tasks.go).
func (p *Profiler) handle(r *roleState, cpu int32, f recordFormat, raw *perf.RawRecord) {
	var rec record
	err := f.decodeBody(uint32(raw.Header.Type), raw.Header.Misc, raw.Data, &rec)
	if rec.hasCPU {
		cpu = int32(rec.cpu)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if r != nil {
			r.badRecords++
		}
		return
	}
	switch rec.typ {
	case recordSample:
		if r == nil {
			p.hold(&rec, cpu)
			return
		}
		r.samples++
		r.agg.addOn(rec.pid, rec.tid, cpu, p.tasks.commOf(rec.pid, rec.tid), rec.chain, 1, p.sampleNS(rec.period), 0)
	case recordMmap, recordMmap2:
		if rec.prot&0x4 != 0 { // PROT_EXEC
			p.sym.space(rec.pid).addAt(userMap{start: rec.addr, limit: rec.addr + rec.length, pgoff: rec.pgoff, file: rec.file}, rec.time)
		}
	case recordLost, recordLostSamples:
		r.lost += rec.lost
	}
}

// sampleNS is the CPU time one sample of period stands for: its period
// for cpu-clock (nanoseconds), the nominal 1/FreqHz for cycles, whose
// period counts cycles and which the kernel adjusts to reach FreqHz
// samples per second of CPU time.
func (p *Profiler) sampleNS(period uint64) int64 {
	if p.cfg.Event == EventCycles {
		return int64(time.Second) / int64(p.cfg.FreqHz)
	}
	return int64(period)
}

// readCounters adds the current cycle's counts of role r, scaling each
// thread's count by enabled/running.
func (p *Profiler) readCounters(r *roleState) {
	for _, t := range r.threads {
		for i, ev := range t.counters {
			if ev == nil {
				continue
			}
			c, err := ev.ReadCount()
			if err != nil {
				p.warn(fmt.Sprintf("%s: read %s tid %d: %v", r.name, allCounters[i].name, t.tid, err))
				continue
			}
			acc := &r.counters[i]
			acc.Supported = true
			acc.Raw += c.Value
			acc.Value += scale(c)
			acc.EnabledNanos += c.Enabled.Nanoseconds()
			acc.RunningNanos += c.Running.Nanoseconds()
		}
	}
}

// scale returns value × enabled / running: the estimate for a counter
// that was multiplexed (running < enabled).
func scale(c perf.Count) float64 {
	if c.Running <= 0 || c.Running >= c.Enabled {
		return float64(c.Value)
	}
	return float64(c.Value) * float64(c.Enabled) / float64(c.Running)
}

// Samples returns how many samples each role, the writer then the
// reader, took so far over the cycles: what Result's Roles[i].Samples
// will say, without building the profiles.
func (p *Profiler) Samples() []uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n []uint64
	for _, r := range p.roles {
		n = append(n, r.samples)
	}
	return n
}

// Result builds the profiles of what was recorded so far. Call it after
// Stop; it may be called again after further cycles.
func (p *Profiler) Result() *Result {
	if p.result != nil {
		return p.result
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	res := &Result{Kernel: p.release, Duration: p.dur, View: p.cfg.View, Counted: p.counted, CountedSeparately: !p.countInline,
		Event: p.cfg.Event, EventReason: p.eventReason, UserOnly: p.userOnly}
	for _, r := range p.roles {
		res.Roles = append(res.Roles, p.roleResult(r))
	}
	res.Warnings = append(append([]string(nil), p.warnings...), p.roleWarnings()...)
	res.Warnings = append(res.Warnings, p.wallWarnings()...)
	res.Warnings = append(res.Warnings, p.wakeWarnings()...)
	p.result = res
	return res
}

// roleResult symbolizes one role.
func (p *Profiler) roleResult(r *roleState) *Role {
	period := int64(time.Second) / int64(p.cfg.FreqHz)
	in := buildInput{
		role: r.name, mode: p.cfg.Mode, stacks: r.agg.order, lost: int64(r.lost),
		periodNS: period, timeNanos: p.first.UnixNano(), durNanos: int64(p.dur),
		comments: p.comments(r),
		main:     p.mainMapping(r),
	}
	role := &Role{
		Name:     r.name,
		PIDs:     append([]int(nil), r.pids...),
		Counters: p.roleCounters(r),
		Samples:  r.samples,
		Lost:     r.lost,
		Profile:  buildProfile(p.sym, in),
	}
	p.addWall(r, role, in)
	return role
}

// mainMapping returns the executable mapping of r's main program: the
// program of the role's process with the most samples (an external
// command's shell may exec the program, or fork a pipeline of them), or
// of its first process when none was sampled; nil when not known.
func (p *Profiler) mainMapping(r *roleState) *userMap {
	bySamples := map[uint32]int64{}
	for _, s := range r.agg.order {
		bySamples[s.pid] += s.samples
	}
	var best *userMap
	var most int64 = -1
	consider := func(pid uint32, n int64) {
		sp, ok := p.sym.spaces[pid]
		if !ok || n <= most {
			return
		}
		if m, ok := sp.main(); ok {
			best, most = &m, n
		}
	}
	for _, pid := range r.pids {
		consider(uint32(pid), bySamples[uint32(pid)])
	}
	for _, s := range r.agg.order {
		consider(s.pid, bySamples[s.pid])
	}
	return best
}

// roleCounters returns r's counters, or nil when no cycle counted.
func (p *Profiler) roleCounters(r *roleState) []result.Counter {
	if p.counted == 0 {
		return nil
	}
	return append([]result.Counter(nil), r.counters...)
}

// roleWarnings lists lost samples, undecodable records and multiplexed
// counters per role.
func (p *Profiler) roleWarnings() []string {
	var w []string
	if p.throttled > 0 {
		rate, _ := MaxSampleRate()
		w = append(w, fmt.Sprintf("%s: the kernel throttled sampling %d time(s), each until its next tick, as its perf interrupts took too long (kernel.perf_event_max_sample_rate is now %d); samples are missing there and shares lean to the rest", p.cfg.Event, p.throttled, rate))
	}
	for _, r := range p.roles {
		if r.lost > 0 {
			w = append(w, fmt.Sprintf("%s: %d samples lost", r.name, r.lost))
		}
		if r.badRecords > 0 {
			w = append(w, fmt.Sprintf("%s: %d ring records could not be decoded", r.name, r.badRecords))
		}
		for _, c := range r.counters {
			if c.Supported && c.RunningNanos < c.EnabledNanos {
				w = append(w, fmt.Sprintf("%s: %s counted %.0f%% of the time (multiplexed; scaled)",
					r.name, c.Name, 100*float64(c.RunningNanos)/float64(c.EnabledNanos)))
			}
		}
	}
	return w
}

// comments are the pprof comments of a role's profile: settings, counters
// and kernel version, one line each.
func (p *Profiler) comments(r *roleState) []string {
	cs := []string{
		fmt.Sprintf("pipelab profile: role=%s mode=%s view=%s", r.name, p.cfg.Mode, p.cfg.View),
		fmt.Sprintf("sampling: %s at %d Hz, kernel and user callchains%s", p.cfg.Event, p.cfg.FreqHz, p.eventNote()),
		"kernel: " + p.release,
		fmt.Sprintf("samples: %d, lost: %d", r.samples, r.lost),
	}
	if p.counted == 0 {
		return append(cs, "counters: not counted")
	}
	var parts []string
	for _, c := range r.counters {
		if c.Supported {
			parts = append(parts, fmt.Sprintf("%s=%.0f", c.Name, c.Value))
		} else {
			parts = append(parts, c.Name+"=not-supported")
		}
	}
	from := fmt.Sprintf("in the %d profiled transfer(s)", p.counted)
	if !p.countInline {
		from = fmt.Sprintf("in %d counted transfer(s) of their own, not the sampled ones", p.counted)
	}
	return append(cs, "counters ("+from+"): "+strings.Join(parts, " "))
}

// eventNote explains the sampled event in a comment: why cpu-clock was
// taken, and its irq-enable skew.
func (p *Profiler) eventNote() string {
	if p.cfg.Event == EventCycles && runtime.GOARCH == "arm64" {
		return "; on arm64 the cycle counter's overflow is an ordinary interrupt (no pseudo-NMI by default), held back while interrupts are off, so self time piles on irq-enable points as with cpu-clock (inclusive shares stay right)"
	}
	if p.cfg.Event != EventCPUClock {
		return ""
	}
	note := "; cpu-clock cannot fire with interrupts off, so self time piles on irq-enable points (inclusive shares stay right)"
	if p.eventReason != "" {
		note = " (" + p.eventReason + ")" + note
	}
	return note
}

// Combined returns both roles in one profile; the role label tells them
// apart (`go tool pprof -tagroot=role`).
func (r *Result) Combined() (*pprof.Profile, error) {
	var ps []*pprof.Profile
	for _, role := range r.Roles {
		ps = append(ps, role.Profile)
	}
	p, err := pprof.Merge(ps)
	if err != nil {
		return nil, fmt.Errorf("combine profiles: %w", err)
	}
	// Merge sums durations; the roles ran side by side.
	p.DurationNanos = ps[0].DurationNanos
	leadMapping(p, ps)
	return p, nil
}

// leadMapping lists first in merged the main program of the first role
// whose main program is not pipelab's own executable (an external
// command's, which names the run), so that pprof's File says what the
// user profiled; Merge lists the writer's first.
func leadMapping(merged *pprof.Profile, roles []*pprof.Profile) {
	self, _ := os.Executable()
	for _, rp := range roles {
		if len(rp.Mapping) == 0 || rp.Mapping[0].File == self || rp.Mapping[0].File == kernelMappingName {
			continue
		}
		lead := rp.Mapping[0]
		i := slices.IndexFunc(merged.Mapping, func(m *pprof.Mapping) bool {
			return m.File == lead.File && m.Start == lead.Start && m.Limit == lead.Limit && m.Offset == lead.Offset
		})
		if i < 0 { // Merge keeps only the mappings a location uses
			c := *lead
			merged.Mapping = append(merged.Mapping, &c)
			i = len(merged.Mapping) - 1
		}
		m := merged.Mapping[i]
		copy(merged.Mapping[1:i+1], merged.Mapping[:i])
		merged.Mapping[0] = m
		for i, m := range merged.Mapping {
			m.ID = uint64(i + 1)
		}
		return
	}
}
