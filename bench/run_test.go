package bench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
)

// small returns options for a quick real run of mode.
func small(mode string) Options {
	o := DefaultOptions()
	o.Mode = mode
	o.Bytes = 64 << 20
	o.Repeat = 2
	return o
}

func TestEveryModeMovesExactBytes(t *testing.T) {
	for _, m := range Modes() {
		t.Run(m.Name, func(t *testing.T) {
			if m.dram {
				t.Skip("its 1GiB source takes seconds to lay out; TestConsumeVerifyEveryMode runs it")
			}
			res, err := Run(context.Background(), small(m.Name), nil, nil)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(res.Runs) != 2 {
				t.Fatalf("got %d runs, want 2", len(res.Runs))
			}
			for i, r := range res.Runs {
				if r.Bytes != 64<<20 || r.Reader.Bytes != 64<<20 {
					t.Errorf("run %d: reader got %d bytes (report %d), want %d", i, r.Bytes, r.Reader.Bytes, 64<<20)
				}
				if m.Writer != "fill" && r.Writer.Bytes < r.Bytes { // the copy writer lays its bytes out before the start
					t.Errorf("run %d: writer moved %d bytes, fewer than the reader's %d", i, r.Writer.Bytes, r.Bytes)
				}
				// The hot loop runs on each child's main thread (Child's
				// init), as an external command's exec must.
				for _, rep := range []ChildReport{r.Writer, r.Reader} {
					if rep.TID != rep.PID {
						t.Errorf("run %d: a child's hot loop ran on thread %d, not its main thread %d", i, rep.TID, rep.PID)
					}
				}
				if r.GiBPerSec <= 0 {
					t.Errorf("run %d: got %v GiB/s, want > 0", i, r.GiBPerSec)
				}
			}
			med, lo, hi := res.GiBPerSec()
			if !(0 < lo && lo <= med && med <= hi) {
				t.Errorf("got min %v median %v max %v, want 0 < min <= median <= max", lo, med, hi)
			}
			t.Logf("%s: median %.2f GiB/s (min %.2f, max %.2f)", m.Name, med, lo, hi)
		})
	}
}

// TestChildNames: ps, top and perf's comm show each child by its role, on
// every thread, while it waits at the gate.
func TestChildNames(t *testing.T) {
	names := map[string][]string{}
	obs := &observer{attach: func(w, r int) error {
		for role, pid := range map[string]int{"writer": w, "reader": r} {
			tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
			if err != nil {
				return err
			}
			for _, task := range append([]os.DirEntry{nil}, tasks...) {
				path := "/proc/" + strconv.Itoa(pid) + "/comm" // the process, as ps shows it
				if task != nil {
					path = "/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/comm"
				}
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				names[role] = append(names[role], strings.TrimSpace(string(b)))
			}
		}
		return nil
	}}
	if _, err := Run(context.Background(), one("vmsplice"), obs, nil); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, role := range []string{"writer", "reader"} {
		if len(names[role]) < 2 {
			t.Errorf("%s: read %d names, want the process's and at least one thread's", role, len(names[role]))
		}
		for _, n := range names[role] {
			if n != "pipelab-"+role {
				t.Errorf("%s: comm %q among %v, want every one pipelab-%s", role, n, names[role], role)
			}
		}
	}
}
