package profile

import (
	"context"

	perf "github.com/elastic/go-perf"
)

// The kernel wakes a ring's reader when half of the ring is full
// (perf_event_attr.wakeup_events 0 without watermark; ring_buffer_init),
// so the sizes below decide how often the profiler's own process runs
// while the children transfer.

// cpuRingPages is the data size of each CPU-wide ring: 2 MiB. A cpu-clock
// sample with a 40-frame callchain takes about 400 bytes, so at 999 Hz the
// reader wakes every 2.5 s per CPU and has as long again to drain before
// anything is lost.
const cpuRingPages = 512

// threadRingPages is the data size of each per-thread ring (the fallback):
// 512 KiB, about 1.3 s of samples at 999 Hz.
const threadRingPages = 128

// smallRingPages is the fallback when the locked-memory limit
// (kernel.perf_event_mlock_kb) refuses a full-size ring.
const smallRingPages = 16

// readRing feeds the records of s until ctx is cancelled (Stop) or, for a
// per-thread sampler, its thread and what it created have exited
// (ErrDisabled: the kernel hangs up an inherited event only once its
// children are gone too); then it disables the event and
// drains what the ring still holds; atStop leaves the ring unread until
// ctx is cancelled. ReadRawRecord is not safe for concurrent use on one
// event, so each sampler has its own reader.
func (p *Profiler) readRing(ctx context.Context, s *sampler, atStop bool) {
	defer p.readers.Done()
	var raw perf.RawRecord
	if atStop {
		<-ctx.Done()
	}
	for {
		if err := s.ev.ReadRawRecord(ctx, &raw); err != nil {
			break
		}
		p.handleFrom(s, &raw)
	}
	s.ev.Disable() // a CPU-wide ring keeps filling with other tasks' samples
	drain := expiredCtx()
	for s.ev.HasRecord() {
		if err := s.ev.ReadRawRecord(drain, &raw); err != nil {
			return
		}
		p.handleFrom(s, &raw)
	}
}

// handleFrom accounts one record of s to its role: the sampler's own for
// a per-thread sampler, else the role of the record's pid. Fork and comm
// records track the roles' processes (tasks.go); samples of pids no role
// knows yet are held until Stop; mappings are kept for every pid. A
// lost-record count whose pid is not a child's (it carries whichever task
// was running when the kernel wrote it) goes to the role last sampled on
// the ring, or to the writer before any. A PERF_RECORD_THROTTLE (the
// kernel stopped a frequency event whose interrupts took too long, until
// the next tick) is counted for a warning.
func (p *Profiler) handleFrom(s *sampler, raw *perf.RawRecord) {
	t := uint32(raw.Header.Type)
	switch t {
	case recordFork, recordComm:
		p.lifecycle(raw, s.format)
		return
	case recordThrottle:
		p.mu.Lock()
		p.throttled++
		p.mu.Unlock()
		return
	}
	if s.role != nil {
		p.handle(s.role, int32(s.cpu), s.format, raw)
		return
	}
	var r *roleState
	if pid, ok := recordPID(t, raw.Data); ok {
		p.mu.Lock()
		r = p.pidRole[pid]
		p.mu.Unlock()
	}
	switch {
	case r != nil && t == recordSample:
		s.last = r
	case r == nil && (t == recordLost || t == recordLostSamples):
		r = s.last
		if r == nil {
			r = p.roles[0]
		}
	case r == nil && t != recordSample && t != recordMmap && t != recordMmap2:
		return
	}
	p.handle(r, int32(s.cpu), s.format, raw)
}
