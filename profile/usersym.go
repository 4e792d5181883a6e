package profile

import (
	"bufio"
	"bytes"
	"debug/elf"
	"debug/gosym"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// userMap is one executable mapping of a process.
type userMap struct {
	start, limit, pgoff uint64
	file                string
}

// addrSpace holds the executable mappings of one process, from
// /proc/PID/maps at attach time and from MMAP/MMAP2 records later. An
// execve (a COMM record with PERF_RECORD_MISC_COMM_EXEC) empties it: what
// was mapped before belongs to the old program.
type addrSpace struct {
	maps   []spaceMap // sorted by start, non-overlapping
	execNS uint64     // perf time of the latest execve, 0 if none seen
	// exe is the program's file, from /proc/PID/exe at attach time; ""
	// once the process exec'd since (its mappings then say, see main).
	exe string
}

// spaceMap is a mapping and the perf time of its MMAP record (0 for one
// read from /proc/PID/maps).
type spaceMap struct {
	userMap
	at uint64
}

// add inserts m, replacing whatever it overlaps (a later mmap wins).
func (s *addrSpace) add(m userMap) { s.addAt(m, 0) }

// addAt inserts m, mapped at perf time t, unless t is before the latest
// execve: the rings are read side by side, so a record of the old program
// may come in after the new one's.
func (s *addrSpace) addAt(m userMap, t uint64) {
	if s.execNS != 0 && t < s.execNS {
		return
	}
	kept := s.maps[:0:0]
	for _, o := range s.maps {
		if o.limit <= m.start || o.start >= m.limit {
			kept = append(kept, o)
		}
	}
	kept = append(kept, spaceMap{m, t})
	sort.Slice(kept, func(i, j int) bool { return kept[i].start < kept[j].start })
	s.maps = kept
}

// exec drops every mapping from before perf time t, when the process
// exec'd a new program.
func (s *addrSpace) exec(t uint64) {
	if t <= s.execNS {
		return
	}
	s.execNS = t
	s.exe = ""
	kept := s.maps[:0:0]
	for _, o := range s.maps {
		if o.at >= t {
			kept = append(kept, o)
		}
	}
	s.maps = kept
}

// clone returns a copy of s: a forked child's address space.
func (s *addrSpace) clone() *addrSpace {
	return &addrSpace{maps: append([]spaceMap(nil), s.maps...), execNS: s.execNS, exe: s.exe}
}

// main returns the executable mapping of the process's program, as
// opposed to its dynamic loader and libraries. After an execve the kernel
// maps the program before its interpreter (load_elf_binary), so the
// program is the earliest file mapping recorded since; a process with no
// execve seen (known from /proc, or forked and never exec'd) has its
// /proc/PID/exe, as a library it maps later is not its program.
func (s *addrSpace) main() (userMap, bool) {
	if s.execNS != 0 {
		var best spaceMap
		found := false
		for _, m := range s.maps {
			if m.at == 0 || len(m.file) == 0 || m.file[0] != '/' {
				continue
			}
			if !found || m.at < best.at {
				best, found = m, true
			}
		}
		if found {
			return best.userMap, true
		}
	}
	if s.exe == "" {
		return userMap{}, false
	}
	for _, m := range s.maps {
		if m.file == s.exe {
			return m.userMap, true
		}
	}
	return userMap{}, false
}

// find returns the mapping that holds addr.
func (s *addrSpace) find(addr uint64) (userMap, bool) {
	i := sort.Search(len(s.maps), func(i int) bool { return s.maps[i].limit > addr })
	if i < len(s.maps) && s.maps[i].start <= addr {
		return s.maps[i].userMap, true
	}
	return userMap{}, false
}

// readProcMaps returns the executable mappings of pid.
func readProcMaps(pid int) ([]userMap, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		return nil, fmt.Errorf("read maps of pid %d: %w", pid, err)
	}
	defer f.Close()
	return parseProcMaps(f)
}

// parseProcMaps parses the /proc/PID/maps format and keeps executable
// mappings: "START-LIMIT PERMS OFFSET DEV INODE [PATH]".
func parseProcMaps(r io.Reader) ([]userMap, error) {
	var out []userMap
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || len(f[1]) < 3 || f[1][2] != 'x' {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		limit, err2 := strconv.ParseUint(hi, 16, 64)
		off, err3 := strconv.ParseUint(f[2], 16, 64)
		if !ok || err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		m := userMap{start: start, limit: limit, pgoff: off}
		if len(f) >= 6 {
			m.file = strings.Join(f[5:], " ")
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse maps: %w", err)
	}
	return out, nil
}

// elfSymbols is the function symbol table of one ELF file, addressed by
// virtual address, plus its loadable segments to turn file offsets into
// virtual addresses. Go binaries are read through their .gopclntab, which
// names functions and lines even when the binary is stripped (go test and
// go run strip .symtab).
type elfSymbols struct {
	addrs, sizes []uint64
	names        []string
	progs        []elf.ProgHeader
	gosym        *gosym.Table
}

// loadELFSymbols reads .symtab and .dynsym of the ELF image in r.
func loadELFSymbols(r io.ReaderAt) (*elfSymbols, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t := &elfSymbols{}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			t.progs = append(t.progs, p.ProgHeader)
		}
	}
	t.gosym = goTable(f)
	syms, _ := f.Symbols()
	dyn, _ := f.DynamicSymbols()
	seen := make(map[uint64]bool)
	for _, s := range append(syms, dyn...) {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Value == 0 || seen[s.Value] {
			continue
		}
		seen[s.Value] = true
		t.addrs = append(t.addrs, s.Value)
		t.sizes = append(t.sizes, s.Size)
		t.names = append(t.names, s.Name)
	}
	sort.Sort(elfByAddr{t})
	return t, nil
}

// goTable reads the Go line table of f, or returns nil.
func goTable(f *elf.File) *gosym.Table {
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return nil
	}
	data, err := pcln.Data()
	if err != nil {
		return nil
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return nil
	}
	return tab
}

// hasSymbols reports whether t can name anything.
func (t *elfSymbols) hasSymbols() bool { return t != nil && (len(t.addrs) > 0 || t.gosym != nil) }

// lookup names the function holding the virtual address vaddr, with its
// source file and line when the Go line table knows them.
func (t *elfSymbols) lookup(vaddr uint64) (name, file string, line int, ok bool) {
	if t.gosym != nil {
		if fn := t.gosym.PCToFunc(vaddr); fn != nil {
			file, line, _ := t.gosym.PCToLine(vaddr)
			return fn.Name, file, line, true
		}
	}
	i := sort.Search(len(t.addrs), func(i int) bool { return t.addrs[i] > vaddr }) - 1
	if i < 0 || (t.sizes[i] != 0 && vaddr >= t.addrs[i]+t.sizes[i]) {
		return "", "", 0, false
	}
	return t.names[i], "", 0, true
}

// vaddr turns a file offset into the ELF virtual address loaded there.
func (t *elfSymbols) vaddr(off uint64) (uint64, bool) {
	for _, p := range t.progs {
		if off >= p.Off && off < p.Off+p.Filesz {
			return off - p.Off + p.Vaddr, true
		}
	}
	return 0, false
}

// elfByAddr sorts an elfSymbols by address.
type elfByAddr struct{ t *elfSymbols }

func (b elfByAddr) Len() int           { return len(b.t.addrs) }
func (b elfByAddr) Less(i, j int) bool { return b.t.addrs[i] < b.t.addrs[j] }
func (b elfByAddr) Swap(i, j int) {
	t := b.t
	t.addrs[i], t.addrs[j] = t.addrs[j], t.addrs[i]
	t.sizes[i], t.sizes[j] = t.sizes[j], t.sizes[i]
	t.names[i], t.names[j] = t.names[j], t.names[i]
}

// vdsoImage copies this process's vDSO, which the kernel maps identically
// into every process, so children's [vdso] frames can be named.
func vdsoImage() ([]byte, error) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	ms, err := parseProcMaps(bytes.NewReader(maps))
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.file != "[vdso]" {
			continue
		}
		f, err := os.Open("/proc/self/mem")
		if err != nil {
			return nil, err
		}
		defer f.Close()
		img := make([]byte, m.limit-m.start)
		if _, err := f.ReadAt(img, int64(m.start)); err != nil {
			return nil, err
		}
		return img, nil
	}
	return nil, fmt.Errorf("no [vdso] mapping")
}
