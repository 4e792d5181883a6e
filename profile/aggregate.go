package profile

import (
	"encoding/binary"
)

// stack is one distinct (pid, tid, cpu, comm, callchain) with its summed
// values.
type stack struct {
	pid, tid uint32
	cpu      int32    // where the samples ran; -1 when not known
	comm     string   // the task's name when sampled; "" when not known
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
	return a.addOn(pid, tid, -1, "", rawChain, samples, cpuNS, offNS)
}

// addOn is add for a sample taken on cpu (-1: not known) while its task
// was called comm ("": not known).
func (a *aggregator) addOn(pid, tid uint32, cpu int32, comm string, rawChain []byte, samples, cpuNS, offNS int64) *stack {
	a.key = appendKey(a.key[:0], pid, tid, cpu, comm)
	a.key = append(a.key, rawChain...)
	s, ok := a.stacks[string(a.key)]
	if !ok {
		s = &stack{pid: pid, tid: tid, cpu: cpu, comm: comm, chain: make([]uint64, len(rawChain)/8)}
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

// appendKey appends the labels part of a stack's map key to k.
func appendKey(k []byte, pid, tid uint32, cpu int32, comm string) []byte {
	k = binary.LittleEndian.AppendUint32(k, pid)
	k = binary.LittleEndian.AppendUint32(k, tid)
	k = binary.LittleEndian.AppendUint32(k, uint32(cpu))
	k = append(k, comm...)
	return append(k, 0)
}

// merge adds every stack of b to a (the cpu-clock samples view: samples
// and cpuNS).
func (a *aggregator) merge(b *aggregator) {
	for _, s := range b.order {
		k := appendKey(nil, s.pid, s.tid, s.cpu, s.comm)
		for _, v := range s.chain {
			k = binary.LittleEndian.AppendUint64(k, v)
		}
		t, ok := a.stacks[string(k)]
		if !ok {
			t = &stack{pid: s.pid, tid: s.tid, cpu: s.cpu, comm: s.comm, chain: s.chain}
			a.stacks[string(k)] = t
			a.order = append(a.order, t)
		}
		t.samples += s.samples
		t.cpuNS += s.cpuNS
		t.offNS += s.offNS
		t.wakeNS += s.wakeNS
	}
}
