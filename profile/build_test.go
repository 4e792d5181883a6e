package profile

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	pprof "github.com/google/pprof/profile"
)

// fixtureSymbolizer names kernel addresses from testdata/kallsyms and user
// addresses of pid 100 from this test binary, mapped where it runs.
func fixtureSymbolizer(t testing.TB) (*symbolizer, userMap) {
	f, err := os.Open("testdata/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	k, err := ParseKallsyms(f)
	if err != nil {
		t.Fatal(err)
	}
	maps, err := readProcMaps(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	sym := newSymbolizer(k)
	for _, m := range maps {
		if m.file == exe {
			sym.space(100).add(m)
			return sym, m
		}
	}
	t.Fatalf("no executable mapping of %s", exe)
	return nil, userMap{}
}

// rawChain encodes a callchain the way the kernel writes it.
func rawChain(entries ...uint64) []byte {
	var b []byte
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint64(b, e)
	}
	return b
}

// userPC is an address inside a function of this binary.
func userPC() uint64 {
	pc := reflect.ValueOf(rawChain).Pointer()
	return uint64(pc) + 8
}

func TestBuildProfile(t *testing.T) {
	sym, _ := fixtureSymbolizer(t)
	agg := newAggregator()
	chain := rawChain(contextKernel,
		0xffffffff81bafa90, // leaf: copy_page_from_iter+0x10, looked up as is
		0xffffffff816e4250, // return address in anon_pipe_write
		0xffffffff81bafbd0, // return address at __pfx_copy_page_to_iter: belongs to the function before
		0xffffffffc0a10020, // module symbol
		contextUser, userPC(),
		0x10, // unmapped return address: stays an address, 0xf
	)
	for i := 0; i < 3; i++ {
		agg.add(100, 101, chain, 1, 1001001, 0)
	}
	agg.add(100, 102, chain, 1, 1001001, 0)
	p := buildProfile(sym, buildInput{role: "writer", mode: "write", stacks: agg.order,
		lost: 5, periodNS: 1001001, comments: []string{"kernel: test"}})

	q := parseBack(t, p)
	if len(q.Sample) != 3 {
		t.Fatalf("got %d samples, want 3 (two tids, one [lost])", len(q.Sample))
	}
	s := q.Sample[0]
	got := frameNames(s)
	want := []string{"copy_page_from_iter", "anon_pipe_write", "copy_page_from_iter", "nft_do_chain",
		"github.com/pipelab/pipelab/profile.rawChain", "0xf"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("frames:\ngot  %v\nwant %v", got, want)
	}
	if s.Value[0] != 3 || s.Value[1] != 3*1001001 {
		t.Errorf("values: got %v, want [3 %d]", s.Value, 3*1001001)
	}
	wantLabels := map[string][]string{"role": {"writer"}, "mode": {"write"}, "pid": {"100"}, "tid": {"101"}}
	if !reflect.DeepEqual(s.Label, wantLabels) {
		t.Errorf("labels: got %v, want %v", s.Label, wantLabels)
	}
	if f := s.Location[3].Line[0].Function; f.Filename != "[nf_tables]" {
		t.Errorf("module frame file: got %q, want [nf_tables]", f.Filename)
	}
	checkMappings(t, q)
	lost := q.Sample[2]
	if names := frameNames(lost); !reflect.DeepEqual(names, []string{"[lost]"}) || lost.Value[0] != 5 {
		t.Errorf("lost sample: got %v %v, want [[lost]] with 5 samples", names, lost.Value)
	}
	if !reflect.DeepEqual(q.Comments, []string{"kernel: test"}) {
		t.Errorf("comments: got %q", q.Comments)
	}
}

// checkMappings wants user mappings first, [kernel.kallsyms] not first,
// and every mapping with functions marked.
func checkMappings(t *testing.T, p *pprof.Profile) {
	t.Helper()
	if len(p.Mapping) != 2 {
		t.Fatalf("got %d mappings, want 2", len(p.Mapping))
	}
	if m := p.Mapping[0]; m.File == kernelMappingName || !m.HasFunctions {
		t.Errorf("mapping[0] = %s (functions %v), want the test binary with functions", m.File, m.HasFunctions)
	}
	if m := p.Mapping[1]; m.File != kernelMappingName || !m.HasFunctions || m.Start != kernelStart {
		t.Errorf("mapping[1] = %+v, want %s from %#x with functions", m, kernelMappingName, uint64(kernelStart))
	}
}

// parseBack round-trips p through Write, Parse and CheckValid.
func parseBack(t testing.TB, p *pprof.Profile) *pprof.Profile {
	t.Helper()
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	q, err := pprof.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.CheckValid(); err != nil {
		t.Fatal(err)
	}
	return q
}

// frameNames lists a sample's function names leaf first; a location
// without a name shows as its address.
func frameNames(s *pprof.Sample) []string {
	var names []string
	for _, l := range s.Location {
		if len(l.Line) == 0 {
			names = append(names, "0x"+strings.TrimLeft(strings.ToLower(hex(l.Address)), "0"))
			continue
		}
		names = append(names, l.Line[0].Function.Name)
	}
	return names
}

func hex(v uint64) string {
	const digits = "0123456789ABCDEF"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b[:])
}

func TestBuildProfileRestrictedKernel(t *testing.T) {
	sym, _ := fixtureSymbolizer(t)
	sym.kern = nil // as when kptr_restrict hides addresses
	agg := newAggregator()
	agg.add(100, 100, rawChain(contextKernel, 0xffffffff81bafa90, contextUser, userPC()), 1, 1000, 0)
	q := parseBack(t, buildProfile(sym, buildInput{role: "reader", mode: "write", stacks: agg.order, periodNS: 1000}))
	got := frameNames(q.Sample[0])
	want := []string{"0xffffffff81bafa90", "github.com/pipelab/pipelab/profile.rawChain"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("frames: got %v, want %v", got, want)
	}
	checkMappings(t, q)
}

// TestUserSymbolsLibc names an address inside libc of a real dynamically
// linked process through its mapping and libc's ELF symbols.
func TestUserSymbolsLibc(t *testing.T) {
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep binary: %v", err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	var libc userMap
	for i := 0; i < 200 && libc.file == ""; i++ {
		maps, _ := readProcMaps(cmd.Process.Pid)
		for _, m := range maps {
			if strings.Contains(m.file, "/libc.so") {
				libc = m
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if libc.file == "" {
		t.Skip("sleep is not linked against libc.so here")
	}
	f, err := elf.Open(libc.file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, _ := f.DynamicSymbols()
	var target elf.Symbol
	for _, s := range syms {
		if s.Name == "clock_nanosleep" {
			target = s
		}
	}
	var addr uint64
	for _, p := range f.Progs {
		off := target.Value - p.Vaddr + p.Off
		if p.Type == elf.PT_LOAD && target.Value >= p.Vaddr && target.Value < p.Vaddr+p.Filesz &&
			off >= libc.pgoff && off < libc.pgoff+libc.limit-libc.start {
			addr = libc.start + off - libc.pgoff + 4
		}
	}
	if addr == 0 {
		t.Fatalf("clock_nanosleep %#x not in the executable mapping %+v", target.Value, libc)
	}
	sym := newSymbolizer(nil)
	sym.space(uint32(cmd.Process.Pid)).add(libc)
	agg := newAggregator()
	agg.add(uint32(cmd.Process.Pid), 1, rawChain(contextUser, addr), 1, 1000, 0)
	q := parseBack(t, buildProfile(sym, buildInput{role: "writer", mode: "x", stacks: agg.order, periodNS: 1000}))
	if got := frameNames(q.Sample[0]); len(got) != 1 || !strings.Contains(got[0], "nanosleep") {
		t.Errorf("frame at clock_nanosleep+4: got %v, want a *nanosleep symbol", got)
	}
	if m := q.Mapping[0]; m.File != libc.file || !m.HasFunctions {
		t.Errorf("mapping: got %s (functions %v), want %s with functions", m.File, m.HasFunctions, libc.file)
	}
}

// TestMainMappingFirst builds a profile whose samples sit in a library
// mapped below the program, as a dynamic loader is: the program's
// mapping, which buildInput.main names, is still mapping[0], the one
// pprof names the profile's File after.
func TestMainMappingFirst(t *testing.T) {
	sym, self := fixtureSymbolizer(t)
	loader := userMap{start: 0x1000, limit: 0x2000, file: "/lib64/ld-linux-x86-64.so.2"}
	sym.space(100).add(loader)
	agg := newAggregator()
	agg.add(100, 100, rawChain(contextUser, 0x1100, 0x1200), 1, 1000, 0)
	p := parseBack(t, buildProfile(sym, buildInput{role: "writer", mode: "dd", stacks: agg.order, periodNS: 1000, main: &self}))
	var files []string
	for _, m := range p.Mapping {
		files = append(files, m.File)
	}
	if len(files) != 2 || files[0] != self.file || files[1] != loader.file {
		t.Errorf("got mappings %q, want the program %s, then the loader", files, self.file)
	}
}

// TestAddrSpaceMain finds a program's mapping after an execve from the
// order of the MMAP records (the program before its loader, which is
// mapped lower here), and from /proc/PID/exe for a process known from
// /proc only.
func TestAddrSpaceMain(t *testing.T) {
	prog := userMap{start: 0x5000, limit: 0x6000, file: "/usr/bin/dd"}
	ld := userMap{start: 0x1000, limit: 0x2000, file: "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"}
	vdso := userMap{start: 0x500, limit: 0x600, file: "[vdso]"}
	old := userMap{start: 0x8000, limit: 0x9000, file: "/usr/bin/pipelab"}

	sp := &addrSpace{exe: old.file}
	sp.add(ld)
	sp.add(old)
	if m, ok := sp.main(); !ok || m != old {
		t.Errorf("from /proc: got %+v %v, want %+v", m, ok, old)
	}
	lib := userMap{start: 0xa000, limit: 0xb000, file: "/usr/lib/x86_64-linux-gnu/libfoo.so"}
	sp.addAt(lib, 50) // dlopen'd later, with no execve seen
	if m, ok := sp.main(); !ok || m != old {
		t.Errorf("a library mapped later without an execve: got %+v %v, want the program %+v", m, ok, old)
	}
	sp.exec(100)
	sp.addAt(vdso, 99) // the old program's, read late
	sp.addAt(prog, 101)
	sp.addAt(ld, 102)
	if m, ok := sp.main(); !ok || m != prog {
		t.Errorf("after exec: got %+v %v, want %+v", m, ok, prog)
	}
	if m, ok := (&addrSpace{}).main(); ok {
		t.Errorf("empty space: got %+v, want none", m)
	}
}
