package profile_test

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	pprof "github.com/google/pprof/profile"
)

// perfStacksScript is `perf script -F tid,ip,sym,dso` output as perf 6.1
// prints it: a right-aligned tid line, a tab before each frame, the dso
// in parentheses, a blank line after each sample.
const perfStacksScript = `   4242 [000]   532.171229: 
	ffffffff8225f8ab _raw_spin_unlock_irqrestore ([kernel.kallsyms])
	ffffffff813a1c2e __wake_up ([kernel.kallsyms])
	ffffffff81777a0c anon_pipe_write ([kernel.kallsyms])
	ffffffff81777b00 ksys_write ([kernel.kallsyms])
	           d4ad7 __GI___libc_write (/usr/lib/x86_64-linux-gnu/libc.so.6)

   4243 [001]   532.171730: 
	ffffffff82260faa __pi_memcpy ([kernel.kallsyms])
	      1040000000 [unknown] ([unknown])

      0 [000]   532.172230: 
	ffffffff8225f8ab pv_native_safe_halt ([kernel.kallsyms])
`

// TestParsePerfStacks keeps each sample's tid and its kernel frames only,
// leaf first, and counts a sample without kernel frames too.
func TestParsePerfStacks(t *testing.T) {
	got, err := parsePerfStacks(strings.NewReader(perfStacksScript))
	if err != nil {
		t.Fatal(err)
	}
	want := []stackSample{
		{tid: 4242, cpu: 0, timeNS: 532171229000, n: 1, kernel: []string{"_raw_spin_unlock_irqrestore", "__wake_up", "anon_pipe_write", "ksys_write"}},
		{tid: 4243, cpu: 1, timeNS: 532171730000, n: 1, kernel: []string{"__pi_memcpy"}},
		{tid: 0, cpu: 0, timeNS: 532172230000, n: 1, kernel: []string{"pv_native_safe_halt"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parsePerfStacks:\ngot  %+v\nwant %+v", got, want)
	}
	// CPU 1's one sample is 501µs after CPU 0's first and 500µs before
	// its second.
	if got, want := timerOffset(got, 0, 1), 500*time.Microsecond; got != want {
		t.Errorf("timerOffset: got %v, want %v", got, want)
	}
}

// TestParsePerfStacksRefuses says what is wrong with output that is not
// perf script's.
func TestParsePerfStacksRefuses(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "no samples"},
		{"perf: oops\n", `sample line "perf: oops": no tid`},
		{"  42 \n", `sample line "  42 ": no cpu and time`},
		{"  42 000 1.5:\n", `sample line "  42 000 1.5:": no cpu`},
		{"  42 [000] x:\n", `sample line "  42 [000] x:": no time`},
		{"\tffff f ([kernel.kallsyms])\n", "frame line \"\\tffff f ([kernel.kallsyms])\" before any sample line"},
	} {
		_, err := parsePerfStacks(strings.NewReader(tc.in))
		if err == nil || err.Error() != tc.want {
			t.Errorf("parsePerfStacks(%q): got error %v, want %q", tc.in, err, tc.want)
		}
	}
}

// TestProfileStacks reads the kernel frames of a pprof profile (those
// under [kernel.kallsyms]), with each sample's tid label and count.
func TestProfileStacks(t *testing.T) {
	kern := &pprof.Mapping{ID: 2, File: "[kernel.kallsyms]"}
	user := &pprof.Mapping{ID: 1, File: "/bin/pipelab"}
	fn := func(id uint64, name string) *pprof.Function { return &pprof.Function{ID: id, Name: name} }
	loc := func(id uint64, m *pprof.Mapping, f *pprof.Function) *pprof.Location {
		return &pprof.Location{ID: id, Mapping: m, Line: []pprof.Line{{Function: f}}}
	}
	wake, write, main := loc(1, kern, fn(1, "__wake_up")), loc(2, kern, fn(2, "ksys_write")), loc(3, user, fn(3, "main.main"))
	p := &pprof.Profile{Sample: []*pprof.Sample{
		{Location: []*pprof.Location{wake, write, main}, Value: []int64{3, 3000}, Label: map[string][]string{"tid": {"77"}}},
		{Location: []*pprof.Location{main}, Value: []int64{1, 1000}, Label: map[string][]string{"tid": {"78"}}},
	}}
	want := []stackSample{
		{tid: 77, cpu: -1, n: 3, kernel: []string{"__wake_up", "ksys_write"}},
		{tid: 78, cpu: -1, n: 1},
	}
	if got := profileStacks(p); !reflect.DeepEqual(got, want) {
		t.Errorf("profileStacks:\ngot  %+v\nwant %+v", got, want)
	}
}

// TestShareTally counts only the samples of the given threads with a
// transfer system call on the stack, each function once per sample
// whatever its suffix, and compares two tallies function by function.
func TestShareTally(t *testing.T) {
	ss := []stackSample{
		{tid: 1, n: 2, kernel: []string{"mutex_spin_on_owner", "__mutex_lock.constprop.0", "anon_pipe_write", "ksys_write"}},
		{tid: 1, n: 1, kernel: []string{"__wake_up", "__wake_up", "anon_pipe_write", "ksys_write"}},
		{tid: 1, n: 1, kernel: []string{"__pfx_ksys_write", "exit_mmap"}},          // no transfer call: left out
		{tid: 2, n: 5, kernel: []string{"copy_page_to_iter", "ksys_read"}},         // another thread: left out
		{tid: 1, n: 1, kernel: []string{"gup_fast_fallback", "__do_sys_vmsplice"}}, // vmsplice counts
	}
	var a shareTally
	a.add(ss, map[int]bool{1: true})
	if a.total != 4 {
		t.Fatalf("got %d samples counted, want 4", a.total)
	}
	for fn, want := range map[string]float64{"__mutex_lock": 0.5, "__wake_up": 0.25, "anon_pipe_write": 0.75, "ksys_write": 0.75, "exit_mmap": 0, "copy_page_to_iter": 0} {
		if got := a.share(fn); got != want {
			t.Errorf("share of %s: got %v, want %v", fn, got, want)
		}
	}
	if got, want := a.top(2), []string{"anon_pipe_write", "ksys_write"}; !slices.Equal(got, want) {
		t.Errorf("top 2: got %v, want %v", got, want)
	}

	var b shareTally
	b.add([]stackSample{
		{tid: 9, n: 1, kernel: []string{"__mutex_lock", "anon_pipe_write", "ksys_write"}},
		{tid: 9, n: 3, kernel: []string{"__wake_up", "anon_pipe_write", "ksys_write"}},
	}, nil)
	rows := compareTallies(&a, &b, 3)
	// anon_pipe_write and ksys_write are on every sample of b, but not of
	// a: they stay, first as the largest shares.
	var fns []string
	for _, r := range rows {
		fns = append(fns, r.fn)
	}
	if want := []string{"anon_pipe_write", "ksys_write", "__wake_up", "__mutex_lock"}; !slices.Equal(fns, want) {
		t.Errorf("rows: got %v, want %v", fns, want)
	}
	w := worstGap(rows)
	if w.fn != "__wake_up" || w.a != 0.25 || w.b != 0.75 || math.Abs(w.gap-50) > 1e-9 || w.err <= 0 {
		t.Errorf("worst gap: got %+v, want __wake_up 25%% against 75%%, +50 pp, with a sampling interval", w)
	}
}
