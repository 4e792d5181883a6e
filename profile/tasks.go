package profile

import (
	"os"
	"strconv"
	"strings"

	perf "github.com/elastic/go-perf"
)

// The processes of a role. A role starts as the child bench gates, and
// grows with every process that child forks and those fork in turn: an
// external command is a shell that may run a pipeline or spawn workers.
// The CPU-wide samplers ask for task and comm records (samplingAttr), so
// each fork on a sampled CPU arrives as PERF_RECORD_FORK and each name
// change or execve as PERF_RECORD_COMM, with the samples. A fork whose
// parent belongs to a role puts the child in that role.
//
// The rings of the CPUs are read side by side, so a child's first samples
// may come in, from its own CPU, before the fork record from its parent's.
// Samples of a pid that no role knows yet are held apart, by pid, and
// when the rings are drained (Stop) each such pid whose line of parents
// reaches a role joins it with its samples; the others, the machine's
// other processes, are dropped. A role's threads are told apart by the
// pid and tid labels, and each sample carries the comm its task had when
// it was sampled (from /proc at attach, then from COMM records) and the
// CPU of the ring it came from.
type tasks struct {
	parent  map[uint32]uint32      // pid → parent pid, from fork records
	comm    map[uint32]string      // tid → latest name
	pending map[uint32]*aggregator // samples of pids no role knew yet
	// pendingSamples counts the samples in pending, by pid.
	pendingSamples map[uint32]uint64
	pendingStacks  int
	// dropped counts samples of unknown pids not held for lack of room.
	dropped uint64
}

// maxPendingStacks bounds the distinct stacks held for unknown pids: the
// CPU-wide samplers see every process on their CPUs.
const maxPendingStacks = 1 << 16

func newTasks() tasks {
	return tasks{parent: map[uint32]uint32{}, comm: map[uint32]string{},
		pending: map[uint32]*aggregator{}, pendingSamples: map[uint32]uint64{}}
}

// lifecycle handles a FORK or COMM record of a CPU-wide ring.
func (p *Profiler) lifecycle(raw *perf.RawRecord, f recordFormat) {
	var rec record
	if f.decodeBody(uint32(raw.Header.Type), raw.Header.Misc, raw.Data, &rec) != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ts := &p.tasks
	switch rec.typ {
	case recordFork:
		// The child's COMM record (its execve) may have come in first,
		// from its own CPU's ring: the fork does not undo it.
		if c, ok := ts.comm[rec.ptid]; ok && ts.comm[rec.tid] == "" {
			ts.comm[rec.tid] = c
		}
		if rec.pid == rec.ppid {
			return // a new thread: its pid says its role already
		}
		ts.parent[rec.pid] = rec.ppid
		if r := p.pidRole[rec.ppid]; r != nil {
			p.pidRole[rec.pid] = r
		}
		if _, ok := p.sym.spaces[rec.pid]; !ok {
			if sp, ok := p.sym.spaces[rec.ppid]; ok {
				p.sym.spaces[rec.pid] = sp.clone()
			}
		}
	case recordComm:
		ts.comm[rec.tid] = rec.comm
		if rec.misc&miscCommExec != 0 {
			p.sym.space(rec.pid).exec(rec.time)
		}
	}
}

// commOf is the latest name of tid, or else of its process (a thread
// sampled as it exits has tid -1).
func (ts *tasks) commOf(pid, tid uint32) string {
	if c, ok := ts.comm[tid]; ok {
		return c
	}
	return ts.comm[pid]
}

// hold keeps a sample of a pid that no role knows yet; p.mu is held.
// The idle task's (pid 0: a hardware sampler on arm, which cannot leave
// idle out) never becomes a role's and is not kept.
func (p *Profiler) hold(rec *record, cpu int32) {
	if rec.pid == 0 {
		return
	}
	ts := &p.tasks
	a := ts.pending[rec.pid]
	if a == nil {
		a = newAggregator()
		ts.pending[rec.pid] = a
	}
	n := len(a.order)
	if ts.pendingStacks >= maxPendingStacks {
		ts.dropped++
		return
	}
	a.addOn(rec.pid, rec.tid, cpu, ts.commOf(rec.pid, rec.tid), rec.chain, 1, p.sampleNS(rec.period), 0)
	ts.pendingStacks += len(a.order) - n
	ts.pendingSamples[rec.pid]++
}

// settle gives the held samples of each pid whose parents lead to a role
// to that role, and drops the rest. Call it once the rings are drained.
func (p *Profiler) settle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	ts := &p.tasks
	for pid, a := range ts.pending {
		if r := p.roleOf(pid); r != nil {
			for _, st := range a.order {
				if st.comm == "" { // sampled before its fork record came in
					st.comm = ts.commOf(st.pid, st.tid)
				}
			}
			r.agg.merge(a)
			r.samples += ts.pendingSamples[pid]
		}
	}
	ts.pending, ts.pendingSamples, ts.pendingStacks = map[uint32]*aggregator{}, map[uint32]uint64{}, 0
}

// roleOf finds pid's role through its line of parents, and remembers it;
// p.mu is held.
func (p *Profiler) roleOf(pid uint32) *roleState {
	var line []uint32
	for i := 0; i < 64; i++ {
		if r := p.pidRole[pid]; r != nil {
			for _, q := range line {
				p.pidRole[q] = r
			}
			return r
		}
		line = append(line, pid)
		parent, ok := p.tasks.parent[pid]
		if !ok {
			return nil
		}
		pid = parent
	}
	return nil
}

// seedComms records the names of tids of pid from /proc; p.mu need not be
// held (Attach runs before the rings).
func (p *Profiler) seedComms(pid int, tids []int) {
	for _, tid := range tids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(tid) + "/comm")
		if err == nil {
			p.tasks.comm[uint32(tid)] = strings.TrimSpace(string(b))
		}
	}
}
