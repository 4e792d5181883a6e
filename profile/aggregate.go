package profile

import (
	"encoding/binary"
)

// stack is one distinct (pid, tid, callchain) with its summed values.
type stack struct {
	pid, tid uint32
	chain    []uint64 // raw callchain, markers included
	samples  int64
	cpuNS    int64 // sum of sample periods (cpu-clock periods are nanoseconds)
	offNS    int64 // off-CPU nanoseconds (wall view)
	// wakeNS is the wake-up latency within offNS (wall view, wake-ups
	// recorded): from the wake-up to running again.
	wakeNS int64
	// waker is the waker's class in a wakers profile (see wake.go).
	waker string
}

// aggregator folds samples into distinct stacks. Memory grows with
// distinct stacks, not with samples: a sample whose stack was seen before
// costs one map lookup and no allocation.
type aggregator struct {
	stacks map[string]*stack
	order  []*stack // first-seen order, for stable output
	key    []byte
}

func newAggregator() *aggregator {
	return &aggregator{stacks: make(map[string]*stack)}
}

// add accounts one sample: rawChain is the callchain as the kernel wrote
// it (little-endian u64 entries). It returns the stack it added to.
func (a *aggregator) add(pid, tid uint32, rawChain []byte, samples, cpuNS, offNS int64) *stack {
	a.key = binary.LittleEndian.AppendUint32(a.key[:0], pid)
	a.key = binary.LittleEndian.AppendUint32(a.key, tid)
	a.key = append(a.key, rawChain...)
	s, ok := a.stacks[string(a.key)]
	if !ok {
		s = &stack{pid: pid, tid: tid, chain: make([]uint64, len(rawChain)/8)}
		for i := range s.chain {
			s.chain[i] = binary.LittleEndian.Uint64(rawChain[i*8:])
		}
		a.stacks[string(a.key)] = s
		a.order = append(a.order, s)
	}
	s.samples += samples
	s.cpuNS += cpuNS
	s.offNS += offNS
	return s
}
