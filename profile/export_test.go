package profile

import (
	"fmt"

	perf "github.com/elastic/go-perf"
)

// SetOpenSwitch replaces how the wall view opens its context-switch
// events, to play a kernel that refuses them, and returns a function that
// restores it.
func SetOpenSwitch(open func(tid int) (*perf.Event, error)) (restore func()) {
	old := openSwitch
	openSwitch = open
	return func() { openSwitch = old }
}

// OpenSwitch is the real opener of the context-switch events.
var OpenSwitch = openSwitch

// PartObserver does one half of what a Profiler does to the children, so
// BenchmarkOverhead can tell what each half costs: part "counters" opens
// and enables the counters on every thread of both children, as Attach
// and Start do, and no sampler; part "sampling" opens the CPU-wide
// cpu-clock samplers with their rings and starts them in step, and no
// counter. Neither reads what it collected.
type PartObserver struct {
	part     string
	freqHz   int
	threads  []*threadEvents
	samplers []*sampler
}

// NewPartObserver returns the observer of part ("counters" or
// "sampling") at freqHz.
func NewPartObserver(part string, freqHz int) *PartObserver {
	return &PartObserver{part: part, freqHz: freqHz}
}

// Attach opens the part's events, disabled.
func (o *PartObserver) Attach(writer, reader int) error {
	var tids []int
	for _, pid := range []int{writer, reader} {
		ts, err := threadIDs(pid)
		if err != nil {
			return err
		}
		tids = append(tids, ts...)
	}
	switch o.part {
	case "counters":
		p := &Profiler{warned: map[string]bool{}}
		for _, tid := range tids {
			t, err := p.openThread(tid)
			if err != nil {
				o.Stop()
				return err
			}
			o.threads = append(o.threads, t)
		}
	case "sampling":
		ss, _, err := openCPUSamplers(EventCPUClock, cpusOf(tids), o.freqHz)
		if err != nil {
			return err
		}
		o.samplers = ss
	default:
		return fmt.Errorf("no part %q (counters or sampling)", o.part)
	}
	return nil
}

// Start enables the part's events as Profiler.Start does.
func (o *PartObserver) Start() error {
	for _, t := range o.threads {
		if err := t.enable(); err != nil {
			return err
		}
	}
	_, err := enableSamplers(o.samplers)
	return err
}

// Stop closes every event.
func (o *PartObserver) Stop() error {
	for _, t := range o.threads {
		t.close()
	}
	closeSamplers(o.samplers)
	o.threads, o.samplers = nil, nil
	return nil
}

// RefuseWakes makes the wake-up recording fail to open with err, as a
// machine without tracefs does, and returns a function that restores it.
func RefuseWakes(err error) (restore func()) {
	old := openWakes
	openWakes = func([]int) (*wakeRecorder, error) { return nil, err }
	return func() { openWakes = old }
}
