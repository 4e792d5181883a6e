package profile_test

import (
	"strings"
	"testing"
)

// perfScript is `perf script -F pid,ip,sym` output as perf 6.1 prints it
// for a recording with callchains: right-aligned pid/tid lines, a tab
// before each frame, a blank line after each sample.
const perfScript = `31392/31392 
	ffffffff8225f8ab _raw_spin_unlock_irq
	ffffffff813a1c2e finish_task_switch.isra.0
	ffffffff8225a4b1 __schedule
	ffffffff8225b0f2 schedule
	ffffffff81777a0c anon_pipe_write
	           d4ad7 __GI___libc_write

31392/31393 
	ffffffff82260faa __pi_memcpy
	ffffffff81bae603 copy_page_from_iter
	ffffffff81777a0c anon_pipe_write
	      1040000000 [unknown]

    0/0     
	ffffffff8225f8ab pv_native_safe_halt
	ffffffff813d00d6 do_idle

  7777/7777 
	ffffffff813a1c2e finish_task_switch
	ffffffff8225a4b1 __schedule

  7777/7777 
	ffffffff81bae603 copy_page_to_iter
	ffffffff81777a0c anon_pipe_read

  7777/7777 
	ffffffff81bae603 finish_task_switch_x
	ffffffff81777a0c anon_pipe_read

  7777/7777 
	ffffffff81bae603 copy_page_to_iter
	ffffffff81777a0c anon_pipe_read
`

// TestPerfScriptShares reads finish_task_switch's inclusive share per
// pid out of perf script output: any frame of the stack counts, a
// compiler suffix too, a longer name does not, and the threads of a
// process add up.
func TestPerfScriptShares(t *testing.T) {
	got, err := perfScriptShares(strings.NewReader(perfScript), "finish_task_switch")
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]float64{31392: 0.5, 0: 0, 7777: 0.25}
	if len(got) != len(want) {
		t.Errorf("got shares of %d pids (%v), want %d", len(got), got, len(want))
	}
	for pid, w := range want {
		if g, ok := got[pid]; !ok || g != w {
			t.Errorf("pid %d: got share %v (present %v), want %v", pid, g, ok, w)
		}
	}
}

// TestPerfScriptSharesRefuses says what is wrong with output that is not
// perf script's: no sample at all, or a sample line without a pid.
func TestPerfScriptSharesRefuses(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "no samples"},
		{"perf: not a pid\n\tffff finish_task_switch\n", `sample line "perf: not a pid": no pid`},
	} {
		_, err := perfScriptShares(strings.NewReader(tc.in), "finish_task_switch")
		if err == nil || err.Error() != tc.want {
			t.Errorf("perfScriptShares(%q): got error %v, want %q", tc.in, err, tc.want)
		}
	}
}
