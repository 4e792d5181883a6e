package profile

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Phasing of the samplers' timers. Each CPU-wide cpu-clock sampler has a
// timer on its CPU, and each of its interrupts stalls that CPU for tens of
// microseconds in a guest (an exit to the hypervisor and back). Where the
// timers of the writer's and the reader's CPUs fire matters:
//
//   - In step (one moment on every CPU), the stalls overlap, so a writer
//     and a reader that take turns wait out one stall a period instead of
//     two. But the two interrupts never arrive at exactly one moment: the
//     one that comes later takes its sample of a thread that ran on while
//     the other CPU was already stalled, and a thread that was waiting for
//     the other side (spinning on its mutex, about to sleep for it) is
//     caught waiting more often than it waits. The lag need not be more
//     than a few microseconds for the bias to show, because the writer and
//     the reader hand the pipe to each other every few microseconds.
//   - Half a period apart (spread), no sample is taken near a stall of the
//     other CPU; every stall on the side that runs is paid once.
//
// pipelab spreads them: a profile should show the transfer as it runs,
// and docs/measurements.md ("Sampling fidelity") has the figures behind
// the choice, bias and throughput for each phasing. A timer's period
// cannot change from sample to sample (the kernel forwards a cpu-clock
// hrtimer by its fixed period), so dithering it would take a system call
// per sample; the other phasings remain as test hooks for the benchmarks.

// phasing is how the cpu-clock timers of the CPU-wide samplers stand to
// each other once enabled.
type phasing int

const (
	// phaseSpread restarts the timer of the i-th of n CPUs i/n of a
	// period after the first's: the default.
	phaseSpread phasing = iota
	// phaseInStep restarts every timer at one common moment.
	phaseInStep
	// phaseAsEnabled leaves the timers as enabling them back to back
	// left them, 5-50µs apart.
	phaseAsEnabled
	// phaseRandom restarts each timer at its own random offset within a
	// period.
	phaseRandom
	// phaseLagged restarts the timer of the i-th CPU i×lagStep after the
	// first's: in step but for a lag, to measure what a lag does.
	phaseLagged
)

// lagStep is the lag between neighbouring CPUs' timers in phaseLagged.
const lagStep = 10 * time.Microsecond

// phasingNames are the phasings' names, by value.
var phasingNames = [...]string{"spread", "in-step", "as-enabled", "random", "lagged"}

func (ph phasing) String() string { return phasingNames[ph] }

// describe says in words where ph places the timers.
func (ph phasing) describe() string {
	return [...]string{"evenly over a period", "in step", "as enabled", "at random offsets", "in step but for a lag"}[ph]
}

// offsets returns, for n timers of period, the offset of each from the
// first moment; nil for phaseAsEnabled, which restarts none.
func (ph phasing) offsets(n int, period time.Duration) []time.Duration {
	offs := make([]time.Duration, n)
	switch ph {
	case phaseAsEnabled:
		return nil
	case phaseSpread:
		for i := range offs {
			offs[i] = period * time.Duration(i) / time.Duration(n)
		}
	case phaseRandom:
		for i := range offs {
			offs[i] = rand.N(period)
		}
	case phaseLagged:
		for i := range offs {
			offs[i] = lagStep * time.Duration(i)
		}
	}
	return offs
}

// tolerance is how late a timer may be restarted (and how long the
// restart may take) for the phasing to hold: a few microseconds in step,
// where any lag biases the samples, and a sixteenth of the gap between
// neighbouring timers otherwise.
func (ph phasing) tolerance(n int, period time.Duration) (slack, call time.Duration) {
	if ph == phaseInStep || ph == phaseLagged {
		return 3 * time.Microsecond, 10 * time.Microsecond // PERF_EVENT_IOC_PERIOD: 4-80µs here, mostly under 10
	}
	t := period / time.Duration(16*n)
	return t, t
}

// enableSamplers starts every sampler, then restarts the cpu-clock timers
// of the CPU-wide ones as ph says: from real-time threads pinned to each
// CPU (rephase), or, for timers apart, where those could not run on time,
// from the calling thread (placeLoosely). It reports whether they were
// placed as asked; when not, they stay as enabling them left them, a few
// microseconds apart.
func enableSamplers(ss []*sampler, ph phasing) (placed bool, err error) {
	var cpuWide []*sampler
	for _, s := range ss {
		if err := s.ev.Enable(); err != nil {
			return false, fmt.Errorf("enable %s %s: %w", s.event, s.name(), err)
		}
		if s.tid < 0 && s.periodNS > 0 { // CPU-wide cpu-clock timers only
			cpuWide = append(cpuWide, s)
		}
	}
	if len(cpuWide) < 2 {
		return true, nil
	}
	period := time.Duration(cpuWide[0].periodNS)
	offs := ph.offsets(len(cpuWide), period)
	if offs == nil {
		return ph == phaseAsEnabled, nil
	}
	slack, call := ph.tolerance(len(cpuWide), period)
	placed, err = rephase(cpuWide, offs, slack, call)
	if placed || err != nil || ph == phaseInStep || ph == phaseLagged {
		return placed, err
	}
	// Apart, the timers need not be placed to the microsecond: this
	// thread can restart them itself, each at its moment, give or take
	// a cross-CPU call.
	return placeLoosely(cpuWide, offs, period/time.Duration(4*len(cpuWide)))
}

// placeLoosely restarts the timers of ss from the calling thread at
// moments offs apart, each within tol of its moment, trying up to
// looseAttempts times. It reports whether an attempt placed them all.
func placeLoosely(ss []*sampler, offs []time.Duration, tol time.Duration) (bool, error) {
	for range looseAttempts {
		first := time.Now().Add(phaseStep)
		ok := true
		for i, s := range ss {
			at := first.Add(offs[i])
			waitUntil(at)
			start := time.Now()
			if err := s.ev.UpdatePeriod(s.periodNS); err != nil {
				return false, fmt.Errorf("restart cpu-clock %s: %w", s.name(), err)
			}
			if start.Sub(at) > tol || time.Since(start) > tol {
				ok = false
				break
			}
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// Timing of rephase: the first moment is phaseDelay ahead (time for a
// thread to be created and moved to each CPU); each later attempt's
// first moment is phaseStep after the last thread finished the attempt
// before, so that a thread that got its CPU late does not leave every
// later moment in the past; phaseAttempts attempts in all. A thread that
// waits longer than phaseWait for the others gives up.
const (
	phaseDelay    = 3 * time.Millisecond
	phaseStep     = 200 * time.Microsecond
	phaseAttempts = 20
	phaseWait     = 50 * time.Millisecond
	// looseAttempts is how many times placeLoosely tries.
	looseAttempts = 5
	// phaseSpin is how long before a moment a placing thread stops
	// sleeping and spins: a spinning thread hits its moment to the
	// microsecond, but a real-time one spinning for half a period (half
	// a second at --freq 1) would keep the children off its CPU.
	phaseSpin = 3 * time.Millisecond
)

// waitUntil returns at at: it sleeps until phaseSpin before (a sleep
// oversleeps by up to a millisecond or so), then spins.
func waitUntil(at time.Time) {
	if d := time.Until(at) - phaseSpin; d > 0 {
		time.Sleep(d)
	}
	for time.Now().Before(at) {
	}
}

// rephase restarts the cpu-clock timers of ss at moments offs apart from
// a first one: a thread pinned to each sampler's CPU waits for its moment
// and sets the event's period there (PERF_EVENT_IOC_PERIOD restarts the
// timer a whole period from now; the kernel then moves it on by whole
// periods after each sample). A thread is on time if it makes its call
// within slack of its moment and the call returns within call. If any
// thread was late, all try again. It reports whether an attempt had
// every thread on time.
func rephase(ss []*sampler, offs []time.Duration, slack, call time.Duration) (bool, error) {
	n := int32(len(ss))
	first := time.Now().Add(phaseDelay)
	var (
		finished [phaseAttempts]atomic.Int32 // threads done with attempt k
		late     [phaseAttempts]atomic.Int32 // threads late at attempt k
		lastDone [phaseAttempts]atomic.Int64 // when the last of them was done, ns after first
		placed   atomic.Bool
	)
	errs := make([]error, len(ss))
	var wg sync.WaitGroup
	for i, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := 0
			defer func() { // a thread that stops early counts as late from there on
				for ; k < phaseAttempts; k++ {
					late[k].Add(1)
					finished[k].Add(1)
				}
			}()
			restore, err := pinForPhase(s.cpu)
			if err != nil {
				return
			}
			defer restore()
			for ; k < phaseAttempts; k++ {
				base := first
				if k > 0 {
					// A thread that waits for the others too long gives
					// up, so that one kept off its CPU (say, queued behind
					// a real-time spinner before it could move) cannot
					// hold the rest spinning.
					waitFrom := time.Now()
					for finished[k-1].Load() < n {
						if time.Since(waitFrom) > phaseWait {
							return
						}
					}
					if late[k-1].Load() == 0 {
						placed.Store(true)
						k = phaseAttempts
						return
					}
					base = first.Add(time.Duration(lastDone[k-1].Load()) + phaseStep)
				}
				at := base.Add(offs[i])
				waitUntil(at)
				start := time.Now()
				if err := s.ev.UpdatePeriod(s.periodNS); err != nil {
					errs[i] = fmt.Errorf("restart cpu-clock %s: %w", s.name(), err)
					return
				}
				done := time.Now()
				if start.Sub(at) > slack || done.Sub(start) > call {
					late[k].Add(1)
				}
				for d := int64(done.Sub(first)); ; {
					if old := lastDone[k].Load(); old >= d || lastDone[k].CompareAndSwap(old, d) {
						break
					}
				}
				finished[k].Add(1)
			}
		}()
	}
	wg.Wait()
	if late[phaseAttempts-1].Load() == 0 {
		placed.Store(true)
	}
	return placed.Load(), errors.Join(errs...)
}

// pinForPhase locks the calling goroutine to its thread, pins the thread
// to cpu and makes it real-time where allowed, so that no other thread
// takes the CPU while it waits for the moment. restore gives the thread
// back as it was: a thread that exited instead would take with it the
// children it forked, whose parent-death signal follows the forking
// thread, not the process.
func pinForPhase(cpu int) (restore func(), err error) {
	runtime.LockOSThread()
	var was, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	// Real-time first, so that the thread takes its new CPU from whatever
	// normal task runs there as soon as it is moved.
	attr, err := unix.SchedGetAttr(0, 0)
	rt := err == nil && unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: 1}, 0) == nil
	undo := func() {
		if rt {
			unix.SchedSetAttr(0, attr, 0)
		}
	}
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		undo()
		runtime.UnlockOSThread()
		return nil, err
	}
	return func() {
		undo()
		unix.SchedSetaffinity(0, &was)
		runtime.UnlockOSThread()
	}, nil
}
