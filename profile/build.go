package profile

import (
	"bytes"
	"os"
	"strconv"

	pprof "github.com/google/pprof/profile"
)

// kernelMappingName is the file name of the mapping kernel frames sit
// under, as perf and pprof name it.
const kernelMappingName = "[kernel.kallsyms]"

// lostFrameName is the function name of the frame that keeps lost samples
// visible in a profile.
const lostFrameName = "[lost]"

// symbolizer names kernel and user addresses of the profiled processes.
type symbolizer struct {
	kern   *Kallsyms             // nil when kernel addresses are hidden
	spaces map[uint32]*addrSpace // by pid
	files  map[string]*elfSymbols
}

func newSymbolizer(kern *Kallsyms) *symbolizer {
	return &symbolizer{kern: kern, spaces: make(map[uint32]*addrSpace), files: make(map[string]*elfSymbols)}
}

// space returns the address space of pid, creating it.
func (s *symbolizer) space(pid uint32) *addrSpace {
	sp := s.spaces[pid]
	if sp == nil {
		sp = &addrSpace{}
		s.spaces[pid] = sp
	}
	return sp
}

// file returns the symbol table of a mapped file, or nil when it cannot be
// read; the answer is cached either way.
func (s *symbolizer) file(name string) *elfSymbols {
	if t, ok := s.files[name]; ok {
		return t
	}
	var t *elfSymbols
	switch {
	case name == "[vdso]":
		if img, err := vdsoImage(); err == nil {
			t, _ = loadELFSymbols(bytes.NewReader(img))
		}
	case len(name) > 0 && name[0] == '/':
		if f, err := os.Open(name); err == nil {
			t, _ = loadELFSymbols(f)
			f.Close()
		}
	}
	s.files[name] = t
	return t
}

// locKey identifies a location: kernel addresses use pid kernelPID.
type locKey struct {
	pid  uint32
	addr uint64
}

const kernelPID = ^uint32(0)

// kernelStart is where the x86-64 kernel half of the address space begins;
// the [kernel.kallsyms] mapping spans from there to the top.
const kernelStart = 0xffff800000000000

type funcKey struct{ name, file string }

// builder turns aggregated stacks into one pprof profile, deduplicating
// mappings, locations and functions.
type builder struct {
	sym      *symbolizer
	p        *pprof.Profile
	kernMap  *pprof.Mapping
	userMaps map[userMap]*pprof.Mapping
	locs     map[locKey]*pprof.Location
	funcs    map[funcKey]*pprof.Function
	lostLoc  *pprof.Location
}

// buildInput is what one role's profile is made of.
type buildInput struct {
	role, mode string
	stacks     []*stack
	lost       int64 // lost samples, shown under a [lost] frame
	periodNS   int64 // nominal sampling period, nanoseconds
	wall       bool  // add the offcpu/nanoseconds and wakeup/nanoseconds sample types
	wakers     bool  // a wakers profile (see wakersTypes); not with wall
	timeNanos  int64
	durNanos   int64
	comments   []string
	// main is the mapping of the role's main program, listed first; nil
	// when not known.
	main *userMap
}

// buildProfile symbolizes stacks and returns a profile with sample types
// samples/count and cpu/nanoseconds (and offcpu/nanoseconds for the wall
// view). Labels: role, mode, pid, tid, and comm and cpu where known, all
// strings.
func buildProfile(sym *symbolizer, in buildInput) *pprof.Profile {
	b := &builder{
		sym:      sym,
		userMaps: make(map[userMap]*pprof.Mapping),
		locs:     make(map[locKey]*pprof.Location),
		funcs:    make(map[funcKey]*pprof.Function),
		p: &pprof.Profile{
			SampleType: []*pprof.ValueType{
				{Type: "samples", Unit: "count"},
				{Type: "cpu", Unit: "nanoseconds"},
			},
			PeriodType:    &pprof.ValueType{Type: "cpu", Unit: "nanoseconds"},
			Period:        in.periodNS,
			TimeNanos:     in.timeNanos,
			DurationNanos: in.durNanos,
			Comments:      append([]string(nil), in.comments...),
		},
	}
	if in.wall {
		b.p.SampleType = append(b.p.SampleType, &pprof.ValueType{Type: "offcpu", Unit: "nanoseconds"},
			&pprof.ValueType{Type: "wakeup", Unit: "nanoseconds"})
	}
	if in.wakers {
		b.p.SampleType = wakersTypes()
		b.p.PeriodType = &pprof.ValueType{Type: "sleep", Unit: "nanoseconds"}
		b.p.Period = 0
	}
	for _, s := range in.stacks {
		b.addStack(in, s)
	}
	if in.lost > 0 {
		b.addLost(in)
	}
	if in.main != nil {
		pm := b.userMapping(*in.main)
		pm.ID = ^uint64(0) // listed
		b.p.Mapping = append(b.p.Mapping, pm)
	}
	b.finish()
	return b.p
}

// addStack appends one pprof sample for s.
func (b *builder) addStack(in buildInput, s *stack) {
	values := []int64{s.samples, s.cpuNS}
	switch {
	case in.wall:
		values = append(values, s.offNS, s.wakeNS)
	case in.wakers:
		values = []int64{s.samples, s.wakeNS, s.offNS}
	}
	label := map[string][]string{
		"role": {in.role}, "mode": {in.mode},
		"pid": {strconv.Itoa(int(s.pid))}, "tid": {strconv.Itoa(int(s.tid))},
	}
	// comm (the task's name when sampled) and cpu, as perf_to_profile
	// and Parca write them, where known.
	if s.comm != "" {
		label["comm"] = []string{s.comm}
	}
	if s.cpu >= 0 {
		label["cpu"] = []string{strconv.Itoa(int(s.cpu))}
	}
	if in.wakers {
		label["waker"] = []string{s.waker}
	}
	b.p.Sample = append(b.p.Sample, &pprof.Sample{
		Location: b.locations(s.pid, s.chain),
		Value:    values,
		Label:    label,
	})
}

// addLost appends the [lost] sample; its cpu value assumes the nominal
// period, since the kernel does not say what the lost samples weighed.
func (b *builder) addLost(in buildInput) {
	fn := b.function(lostFrameName, "")
	b.lostLoc = &pprof.Location{Line: []pprof.Line{{Function: fn}}}
	b.p.Location = append(b.p.Location, b.lostLoc)
	values := []int64{in.lost, in.lost * in.periodNS}
	if in.wall {
		values = append(values, 0, 0)
	}
	b.p.Sample = append(b.p.Sample, &pprof.Sample{
		Location: []*pprof.Location{b.lostLoc},
		Value:    values,
		Label:    map[string][]string{"role": {in.role}, "mode": {in.mode}},
	})
}

// locations turns a raw callchain (leaf first) into locations: context
// markers are skipped, the first real entry is the sample IP, and every
// other entry is a return address, looked up at address - 1.
func (b *builder) locations(pid uint32, chain []uint64) []*pprof.Location {
	locs := make([]*pprof.Location, 0, len(chain))
	kernel := false
	for _, v := range chain {
		if v >= contextMax {
			kernel = v == contextKernel
			continue
		}
		addr := v
		if len(locs) > 0 {
			addr--
		}
		if kernel {
			locs = append(locs, b.kernelLocation(addr))
		} else {
			locs = append(locs, b.userLocation(pid, addr))
		}
	}
	return locs
}

// kernelLocation names a kernel address through kallsyms.
func (b *builder) kernelLocation(addr uint64) *pprof.Location {
	key := locKey{kernelPID, addr}
	if l := b.locs[key]; l != nil {
		return l
	}
	if b.kernMap == nil {
		b.kernMap = &pprof.Mapping{Start: kernelStart, Limit: ^uint64(0), File: kernelMappingName, HasFunctions: true}
	}
	l := &pprof.Location{Address: addr, Mapping: b.kernMap}
	if b.sym.kern != nil {
		if name, module, ok := b.sym.kern.Lookup(addr); ok {
			file := ""
			if module != "" {
				file = "[" + module + "]"
			}
			l.Line = []pprof.Line{{Function: b.function(name, file)}}
		}
	}
	b.locs[key] = l
	b.p.Location = append(b.p.Location, l)
	return l
}

// userLocation names a user address through the mapped file's symbols;
// an address outside every known mapping stays a bare address.
func (b *builder) userLocation(pid uint32, addr uint64) *pprof.Location {
	key := locKey{pid, addr}
	if l := b.locs[key]; l != nil {
		return l
	}
	l := &pprof.Location{Address: addr}
	if m, ok := b.sym.space(pid).find(addr); ok {
		l.Mapping = b.userMapping(m)
		if t := b.sym.file(m.file); t != nil {
			if va, ok := t.vaddr(addr - m.start + m.pgoff); ok {
				if name, file, line, ok := t.lookup(va); ok {
					l.Line = []pprof.Line{{Function: b.function(name, file), Line: int64(line)}}
				}
			}
		}
	}
	b.locs[key] = l
	b.p.Location = append(b.p.Location, l)
	return l
}

// userMapping returns the pprof mapping for m, creating it.
func (b *builder) userMapping(m userMap) *pprof.Mapping {
	if pm := b.userMaps[m]; pm != nil {
		return pm
	}
	t := b.sym.file(m.file)
	pm := &pprof.Mapping{Start: m.start, Limit: m.limit, Offset: m.pgoff, File: m.file,
		HasFunctions: t.hasSymbols()}
	b.userMaps[m] = pm
	return pm
}

// function returns the function called name, creating it.
func (b *builder) function(name, file string) *pprof.Function {
	k := funcKey{name, file}
	if f := b.funcs[k]; f != nil {
		return f
	}
	f := &pprof.Function{Name: name, SystemName: name, Filename: file}
	b.funcs[k] = f
	b.p.Function = append(b.p.Function, f)
	return f
}

// finish lists mappings with user mappings first (pprof treats mapping[0]
// as the main binary and names the profile's File after it: it must be
// the main program, listed by buildProfile, and never the kernel) and
// numbers every mapping, location and function.
func (b *builder) finish() {
	for _, l := range b.p.Location {
		if m := l.Mapping; m != nil && m.ID == 0 {
			if m != b.kernMap {
				b.p.Mapping = append(b.p.Mapping, m)
			}
			m.ID = ^uint64(0) // mark as listed
		}
	}
	if b.kernMap != nil {
		b.p.Mapping = append(b.p.Mapping, b.kernMap)
	}
	for i, m := range b.p.Mapping {
		m.ID = uint64(i + 1)
	}
	for i, l := range b.p.Location {
		l.ID = uint64(i + 1)
	}
	for i, f := range b.p.Function {
		f.ID = uint64(i + 1)
	}
}
