package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Each test here shows one knob reaching the kernel: what the children
// reported (F_GETPIPE_SZ, sched_getaffinity, VmLck, kpageflags, syscall
// counters) or what /proc shows of the gated children.

func TestKnobPipeSize(t *testing.T) {
	cases := []struct {
		name    string
		mode    string
		bufSize int
		pipe    int
		want    int
	}{
		{"write kernel default", "write", 256 << 10, 0, 16 * pageSize},
		{"write 1MiB", "write", 256 << 10, 1 << 20, 1 << 20},
		{"write 16KiB", "write", 256 << 10, 16 << 10, 16 << 10},
		{"vmsplice double buffer default", "vmsplice", 256 << 10, 0, 128 << 10},
		{"splice double buffer 512KiB", "splice", 512 << 10, 0, 256 << 10},
		{"huge explicit 1MiB", "huge", 256 << 10, 1 << 20, 1 << 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if planFor(Options{Mode: c.mode}).Huge {
				mustHaveHugePages(t)
			}
			o := one(c.mode)
			o.BufSizeBytes, o.PipeSizeBytes = c.bufSize, c.pipe
			r := runOne(t, o)
			if r.Writer.PipeSizeBytes != c.want || r.Reader.PipeSizeBytes != c.want {
				t.Errorf("F_GETPIPE_SZ: writer %d, reader %d; want %d", r.Writer.PipeSizeBytes, r.Reader.PipeSizeBytes, c.want)
			}
		})
	}
}

func TestKnobPipeSizeRoundedUp(t *testing.T) {
	o := one("write")
	o.PipeSizeBytes = 100000
	res, err := Run(context.Background(), o, nil, nil)
	noChildren(t)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := res.Runs[0].Reader.PipeSizeBytes; got != 128<<10 {
		t.Errorf("F_GETPIPE_SZ after asking 100000: got %d, want %d", got, 128<<10)
	}
	want := []string{"pipe size 100000 rounded up to 128KiB by the kernel (a power of two pages)"}
	if got := texts(res.Warnings); !slices.Equal(got, want) {
		t.Errorf("Warnings = %q, want %q", got, want)
	}
}

func TestKnobPin(t *testing.T) {
	cpus, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) < 2 {
		t.Skipf("pinning two roles apart needs 2 CPUs, have %v", cpus)
	}
	w, rd := cpus[1], cpus[0] // the reverse of the default
	o := one("write")
	o.PinWriter, o.PinReader = w, rd
	var attached [2][]string
	obs := &observer{attach: func(wp, rp int) error {
		attached = [2][]string{threadAffinities(t, wp), threadAffinities(t, rp)}
		return nil
	}}
	res, err := Run(context.Background(), o, obs, nil)
	noChildren(t)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	r := res.Runs[0]
	if !slices.Equal(r.Writer.CPUs, []int{w}) || !slices.Equal(r.Reader.CPUs, []int{rd}) {
		t.Errorf("--pin %d,%d: writer reported CPUs %v, reader %v", w, rd, r.Writer.CPUs, r.Reader.CPUs)
	}
	// The kernel's view of the gated children: the hot thread of each is
	// allowed on its CPU only.
	if !slices.Contains(attached[0], strconv.Itoa(w)) || !slices.Contains(attached[1], strconv.Itoa(rd)) {
		t.Errorf("Cpus_allowed_list of the gated threads: writer %q, reader %q; want one thread on %d and %d", attached[0], attached[1], w, rd)
	}

	o.PinWriter, o.PinReader = -1, -1
	r = runOne(t, o)
	if !slices.Equal(r.Writer.CPUs, cpus) || !slices.Equal(r.Reader.CPUs, cpus) {
		t.Errorf("unpinned: writer CPUs %v, reader %v; want all of %v", r.Writer.CPUs, r.Reader.CPUs, cpus)
	}
}

// TestRuntimeThreadsIdle: in each gated child every thread but the hot
// loop's runs under SCHED_IDLE, so the Go runtime's threads cannot preempt
// the hot loop; the hot thread keeps SCHED_OTHER.
func TestRuntimeThreadsIdle(t *testing.T) {
	var policies [2]map[int]int
	obs := &observer{attach: func(wp, rp int) error {
		policies = [2]map[int]int{threadPolicies(t, wp), threadPolicies(t, rp)}
		return nil
	}}
	res, err := Run(context.Background(), one("vmsplice"), obs, nil)
	noChildren(t)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for i, rep := range []ChildReport{res.Runs[0].Writer, res.Runs[0].Reader} {
		role := []string{"writer", "reader"}[i]
		if len(policies[i]) < 2 {
			t.Errorf("%s: %d threads seen, want the hot one and the runtime's", role, len(policies[i]))
		}
		for tid, pol := range policies[i] {
			want := unix.SCHED_IDLE
			if tid == rep.TID {
				want = 0 // SCHED_OTHER
			}
			if pol != want {
				t.Errorf("%s thread %d (hot thread %d): policy %d, want %d", role, tid, rep.TID, pol, want)
			}
		}
	}
}

// TestUnidleThreads: unidleThreads, which a child calls on itself before
// it exits and the runner on a child before it kills it, gives every
// runtime thread of a gated child SCHED_OTHER again, so that none waits
// for an idle CPU to run its exit (idle.go).
func TestUnidleThreads(t *testing.T) {
	var before, after map[int]int
	obs := &observer{attach: func(wp, rp int) error {
		before = threadPolicies(t, wp)
		unidleThreads(wp)
		after = threadPolicies(t, wp)
		return nil
	}}
	if _, err := Run(context.Background(), one("vmsplice"), obs, nil); err != nil {
		t.Fatalf("Run: %v", err)
	}
	noChildren(t)
	idle := 0
	for tid, pol := range before {
		if pol == unix.SCHED_IDLE {
			idle++
		}
		if after[tid] != 0 {
			t.Errorf("writer thread %d: policy %d after unidleThreads (was %d), want 0 (SCHED_OTHER)", tid, after[tid], pol)
		}
	}
	if idle == 0 {
		t.Errorf("no SCHED_IDLE thread in the gated writer (%v): nothing tested", before)
	}
}

// threadPolicies returns the scheduling policy of every thread of pid,
// field 41 of /proc/PID/task/TID/stat.
func threadPolicies(t *testing.T, pid int) map[int]int {
	paths, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(paths) == 0 {
		t.Errorf("threads of %d: %v", pid, err)
	}
	pol := map[int]int{}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s := string(b)
		// Fields after the command, which ends at the last ')', start at
		// field 3.
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		tid, err1 := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		p, err2 := strconv.Atoi(f[41-3])
		if err1 != nil || err2 != nil {
			t.Fatalf("parse %s: %q", path, s)
		}
		pol[tid] = p
	}
	return pol
}

// threadAffinities returns Cpus_allowed_list of every thread of pid.
func threadAffinities(t *testing.T, pid int) []string {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		t.Errorf("threads of %d: %v", pid, err)
	}
	var list []string
	for _, path := range tasks {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				list = append(list, strings.TrimSpace(v))
			}
		}
	}
	return list
}

func TestKnobLockMemory(t *testing.T) {
	for _, mode := range []string{"write", "vmsplice"} {
		t.Run(mode, func(t *testing.T) {
			o := one(mode)
			o.BufSizeBytes = 1 << 20
			o.LockMemory = true
			r := runOne(t, o)
			want := int64(o.BufSizeBytes >> 10)
			if r.Writer.LockedKiB < want || r.Reader.LockedKiB < want {
				t.Errorf("--lock-memory: VmLck writer %d KiB, reader %d KiB; want >= %d", r.Writer.LockedKiB, r.Reader.LockedKiB, want)
			}
			o.LockMemory = false
			r = runOne(t, o)
			if r.Writer.LockedKiB != 0 || r.Reader.LockedKiB != 0 {
				t.Errorf("without --lock-memory: VmLck writer %d KiB, reader %d KiB; want 0", r.Writer.LockedKiB, r.Reader.LockedKiB)
			}
		})
	}
}

func TestKnobCheckHuge(t *testing.T) {
	mustHaveHugePages(t)
	cases := []struct {
		mode           string
		huge           bool
		readerChecks   bool
		readerHasNoBuf bool
	}{
		{"write", true, true, false},
		{"write-huge", false, true, false},
		{"vmsplice-huge", false, true, false},
		{"huge", false, false, true},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			o := one(c.mode)
			o.Huge, o.CheckHuge = c.huge, true
			r := runOne(t, o)
			if !r.Writer.HugeChecked {
				t.Errorf("writer: HugeChecked false, want true")
			}
			if r.Reader.HugeChecked != c.readerChecks {
				t.Errorf("reader: HugeChecked %v, want %v (a splice reader has no buffer)", r.Reader.HugeChecked, c.readerChecks)
			}
		})
	}
}

// TestKnobHuge looks at the gated children from outside: with --huge each
// buffer is a transparent huge page (AnonHugePages in smaps_rollup),
// without it none is (when THP is madvise, as here).
func TestKnobHuge(t *testing.T) {
	mustHaveHugePages(t)
	thp, err := THPMode() // with "always", any buffer may get huge pages
	if err != nil {
		t.Fatal(err)
	}
	for _, huge := range []bool{true, false} {
		t.Run(fmt.Sprintf("huge=%v", huge), func(t *testing.T) {
			o := one("write")
			o.Huge = huge
			var got [2]int64
			obs := &observer{attach: func(w, r int) error {
				got = [2]int64{rollupKiB(t, w, "AnonHugePages"), rollupKiB(t, r, "AnonHugePages")}
				return nil
			}}
			if _, err := Run(context.Background(), o, obs, nil); err != nil {
				t.Fatalf("Run: %v", err)
			}
			noChildren(t)
			for i, role := range []string{"writer", "reader"} {
				if huge && got[i] < hugePageBytes>>10 {
					t.Errorf("--huge: %s AnonHugePages %d KiB, want >= %d", role, got[i], hugePageBytes>>10)
				}
				if !huge && thp == "madvise" && got[i] != 0 {
					t.Errorf("without --huge: %s AnonHugePages %d KiB, want 0", role, got[i])
				}
			}
		})
	}
}

// rollupKiB reads a "Name:  1234 kB" line of /proc/PID/smaps_rollup.
func rollupKiB(t *testing.T, pid int, name string) int64 {
	t.Helper()
	return procKiB(t, pid, "smaps_rollup", name)
}

// TestKnobDontTouchPages measures the gated children's resident anonymous
// memory: a touched 16MiB buffer is resident before the gate opens, an
// untouched one is not.
func TestKnobDontTouchPages(t *testing.T) {
	const buf = 16 << 20
	for _, dont := range []bool{false, true} {
		t.Run(fmt.Sprintf("dont-touch=%v", dont), func(t *testing.T) {
			o := one("write")
			o.BufSizeBytes, o.Bytes, o.DontTouchPages = buf, 64<<20, dont
			var rss [2]int64
			obs := &observer{attach: func(w, r int) error {
				rss = [2]int64{statusKiB(t, w, "RssAnon"), statusKiB(t, r, "RssAnon")}
				return nil
			}}
			res, err := Run(context.Background(), o, obs, nil)
			noChildren(t)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := res.Runs[0].Bytes; got != o.Bytes {
				t.Errorf("reader got %d bytes, want %d", got, o.Bytes)
			}
			for i, role := range []string{"writer", "reader"} {
				if !dont && rss[i] < buf>>10 {
					t.Errorf("touched: gated %s RssAnon %d KiB, want >= %d", role, rss[i], buf>>10)
				}
				if dont && rss[i] >= buf>>10 {
					t.Errorf("--dont-touch-pages: gated %s RssAnon %d KiB, want < %d", role, rss[i], buf>>10)
				}
			}
		})
	}
}

// TestKnobBusy: with --busy both ends use nonblocking calls, which shows
// as EAGAIN and, for write(2), as short writes; without it a blocking end
// never sees EAGAIN.
func TestKnobBusy(t *testing.T) {
	for _, mode := range []string{"write", "vmsplice", "splice"} {
		t.Run(mode, func(t *testing.T) {
			o := one(mode)
			o.Busy = true
			var flags [2]int64
			obs := &observer{attach: func(w, r int) error {
				flags = [2]int64{fdFlags(t, w, fdPipe), fdFlags(t, r, fdPipe)}
				return nil
			}}
			res, err := Run(context.Background(), o, obs, nil)
			noChildren(t)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			// A read(2) or write(2) end is made O_NONBLOCK before the gate;
			// vmsplice and splice ends pass SPLICE_F_NONBLOCK per call.
			m, _ := LookupMode(mode)
			wantW, wantR := m.Writer == "write", m.Reader == "read"
			if gotW, gotR := flags[0]&unix.O_NONBLOCK != 0, flags[1]&unix.O_NONBLOCK != 0; gotW != wantW || gotR != wantR {
				t.Errorf("--busy: O_NONBLOCK on the pipe: writer %v, reader %v; want %v, %v", gotW, gotR, wantW, wantR)
			}
			r := res.Runs[0]
			if r.Writer.EAGAIN+r.Reader.EAGAIN == 0 {
				t.Errorf("--busy: no EAGAIN at either end (writer %d calls, reader %d calls)", r.Writer.Calls, r.Reader.Calls)
			}
			// A nonblocking write(2) returns once the pipe is full, so each
			// call moves at most the pipe size (64KiB), a quarter buffer.
			if mode == "write" && r.Writer.Calls < r.Writer.Bytes/int64(r.Writer.PipeSizeBytes) {
				t.Errorf("--busy write: %d calls moved %d bytes, want short writes of at most the %d-byte pipe",
					r.Writer.Calls, r.Writer.Bytes, r.Writer.PipeSizeBytes)
			}
			t.Logf("writer %d calls %d EAGAIN, reader %d calls %d EAGAIN", r.Writer.Calls, r.Writer.EAGAIN, r.Reader.Calls, r.Reader.EAGAIN)
			o.Busy = false
			r = runOne(t, o)
			if r.Writer.EAGAIN != 0 || r.Reader.EAGAIN != 0 {
				t.Errorf("blocking: EAGAIN writer %d, reader %d; want 0", r.Writer.EAGAIN, r.Reader.EAGAIN)
			}
			// A blocking write(2) waits for room and returns the whole
			// buffer (short only if a signal cuts it).
			if whole := r.Writer.Bytes / int64(o.BufSizeBytes); mode == "write" && r.Writer.Calls > whole+2 {
				t.Errorf("blocking write: %d calls moved %d bytes, want about %d whole %d-byte buffers",
					r.Writer.Calls, r.Writer.Bytes, whole, o.BufSizeBytes)
			}
		})
	}
}

func TestKnobPoll(t *testing.T) {
	for _, mode := range []string{"write", "vmsplice", "splice"} {
		t.Run(mode, func(t *testing.T) {
			o := one(mode)
			o.Poll = true
			r := runOne(t, o)
			if r.Writer.Polls < r.Writer.Calls || r.Reader.Polls < r.Reader.Calls {
				t.Errorf("--poll: writer %d polls for %d calls, reader %d polls for %d calls; want a poll before every call",
					r.Writer.Polls, r.Writer.Calls, r.Reader.Polls, r.Reader.Calls)
			}
			o.Poll = false
			r = runOne(t, o)
			if r.Writer.Polls != 0 || r.Reader.Polls != 0 {
				t.Errorf("without --poll: polls writer %d, reader %d; want 0", r.Writer.Polls, r.Reader.Polls)
			}
		})
	}
}

// TestKnobGiftSameBuffer: SPLICE_F_GIFT / SPLICE_F_MOVE and the single
// half-buffer have no effect visible from user space on this kernel (a
// gifted page is still copied by read(2); splice to /dev/null never moves
// pages); what can be checked is that the bytes arrive exactly.
func TestKnobGiftSameBuffer(t *testing.T) {
	for _, mode := range []string{"vmsplice", "splice", "huge"} {
		for _, knob := range []string{"gift", "same-buffer", "gift+same-buffer"} {
			t.Run(mode+"/"+knob, func(t *testing.T) {
				if planFor(Options{Mode: mode}).Huge {
					mustHaveHugePages(t)
				}
				o := one(mode)
				o.Bytes += 12345
				o.Gift = strings.Contains(knob, "gift")
				o.SameBuffer = strings.Contains(knob, "same-buffer")
				r := runOne(t, o)
				if r.Writer.Calls == 0 || r.Reader.Calls == 0 {
					t.Errorf("calls: writer %d, reader %d; want > 0", r.Writer.Calls, r.Reader.Calls)
				}
			})
		}
	}
}

// TestKnobBufOffset: both children pass the kernel buffers that start
// where --buf-offset says (a huge-page buffer still proven huge), and the
// offset changes what vmsplice does. At 16 bytes a 128KiB half spans 33
// pages, one more than the 32-slot pipe of the double-buffer scheme
// takes, so the writer needs at least two vmsplice calls per half.
func TestKnobBufOffset(t *testing.T) {
	cases := []struct {
		name   string
		mode   string
		offset int
		want   int
	}{
		{"write malloc", "write", MallocOffset, 16},
		{"write 100", "write", 100, 100},
		{"vmsplice malloc", "vmsplice", MallocOffset, 16},
		{"vmsplice aligned", "vmsplice", 0, 0},
		{"huge malloc", "huge", MallocOffset, 0},
		{"vmsplice-huge 16", "vmsplice-huge", 16, 16},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if planFor(Options{Mode: c.mode}).Huge {
				mustHaveHugePages(t)
			}
			o := one(c.mode)
			o.BufOffset = c.offset
			o.CheckHuge = planFor(o).Huge // still inside one huge page
			r := runOne(t, o)
			if r.Writer.BufPageOffset != c.want || r.Reader.BufPageOffset != c.want {
				t.Errorf("buffer page offset: writer %d, reader %d; want %d", r.Writer.BufPageOffset, r.Reader.BufPageOffset, c.want)
			}
			if !strings.HasPrefix(c.mode, "vmsplice") || c.want == 0 {
				return
			}
			half := int64(o.BufSizeBytes / 2)
			if min := 2 * (o.Bytes/half - 1); r.Writer.Calls < min {
				t.Errorf("writer made %d vmsplice calls for %d halves of %d pages + %d bytes; want at least %d (two per half)",
					r.Writer.Calls, o.Bytes/half, half/int64(pageSize), c.want, min)
			}
		})
	}
}

// fdFlags returns the open flags of fd in pid, from /proc/PID/fdinfo.
func fdFlags(t *testing.T, pid, fd int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%d", pid, fd))
	if err != nil {
		t.Fatalf("fdinfo: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 8, 64)
			if err != nil {
				t.Fatalf("parse fdinfo flags %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatalf("no flags in /proc/%d/fdinfo/%d", pid, fd)
	return 0
}
