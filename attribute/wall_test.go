package attribute

import (
	"errors"
	"testing"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/result"
)

func TestWallFigures(t *testing.T) {
	steps := fixture.WallSteps()
	ps := fixture.WallProfiles(t)
	wall := func(s result.Step) []WallRole {
		w, err := Wall(s, map[string]*pprof.Profile{"writer": ps[s.Mode+".writer.wall.pb.gz"], "reader": ps[s.Mode+".reader.wall.pb.gz"]}, 3)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	write, busy := wall(steps[0]), wall(steps[1])
	if len(write) != 2 || write[0].Role != "writer" || write[1].Role != "reader" {
		t.Fatalf("got roles %+v, want writer then reader", write)
	}
	w := write[0]
	if w.OffCPUShare != 0.7 || w.OnCPUShare != 0.3 || w.PreemptedShare != 0.1 || w.SwitchesPerGiB != 30000 || w.WakeupsPerGiB != 28000 || w.WallNanosPerGiB != 1e9 {
		t.Errorf("writer: on %v off %v, %v switches and %v wake-ups per GiB, %vns wall per GiB; want 0.3, 0.7, 30000, 28000, 1e9",
			w.OnCPUShare, w.OffCPUShare, w.SwitchesPerGiB, w.WakeupsPerGiB, w.WallNanosPerGiB)
	}
	want := []BlockingSite{
		{Site: "pipe_wait_writable", Caller: "anon_pipe_write", OffCPUNanos: 600e6, Share: 600.0 / 700, WallShare: 0.6},
		{Site: "irqentry_exit", Caller: "asm_sysvec_apic_timer_interrupt", OffCPUNanos: 100e6, Share: 100.0 / 700, WallShare: 0.1},
	}
	if len(w.Blocking) != len(want) {
		t.Fatalf("writer blocking sites: got %+v, want %+v", w.Blocking, want)
	}
	for i := range want {
		if w.Blocking[i] != want[i] {
			t.Errorf("writer blocking site %d: got %+v, want %+v", i, w.Blocking[i], want[i])
		}
	}
	if r := write[1].Blocking; len(r) != 1 || r[0].Site != "pipe_wait_readable" || r[0].Share != 1 {
		t.Errorf("reader blocking sites: got %+v, want all off-CPU time in pipe_wait_readable", r)
	}

	changes := WallChanges(write, busy)
	if len(changes) != 2 {
		t.Fatalf("got %d wall changes, want 2", len(changes))
	}
	c := changes[0]
	// 1s per GiB down to 0.2s: 80% removed, 11 points of CPU time
	// (300ms → 190ms) and 69 points of sleep (700ms → 10ms).
	if c.Role != "writer" || !near(c.Removed, 0.8) || !near(c.RemovedOnCPU, 0.11) || !near(c.RemovedOffCPU, 0.69) {
		t.Errorf("writer write → busy: got %+v, want 0.8 removed: 0.11 on CPU, 0.69 asleep", c)
	}
	// Per site: the 600ms per GiB in pipe_wait_writable are gone (60
	// points of the old wall time); preemption went from 100ms to 10ms.
	if got := c.Sites; len(got) != 2 || got[0].Site != "pipe_wait_writable" || !near(got[0].Removed, 0.6) || got[0].OffCPUNanosPerGiBB != 0 ||
		got[1].Site != "irqentry_exit" || !near(got[1].Removed, 0.09) || !near(got[1].OffCPUNanosPerGiBA, 100e6) {
		t.Errorf("writer write → busy sites: got %+v, want pipe_wait_writable 0.6 removed, then irqentry_exit 0.09", got)
	}
	if back := WallChanges(busy, write); !near(back[0].Removed, -4) {
		t.Errorf("busy → write: removed %v, want -4 (five times the wall time)", back[0].Removed)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// TestWallFromProfileSums: without wall times in the JSON, the profile's
// cpu and offcpu sums make the split.
func TestWallFromProfileSums(t *testing.T) {
	s := fixture.WallSteps()[0]
	for i := range s.Roles {
		s.Roles[i].WallNanos, s.Roles[i].OnCPUNanos, s.Roles[i].OffCPUNanos = 0, 0, 0
	}
	ps := fixture.WallProfiles(t)
	w, err := Wall(s, map[string]*pprof.Profile{"reader": ps["write.reader.wall.pb.gz"]}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 1 || !w[0].FromProfile || w[0].WallNanos != 900e6 || w[0].OffCPUNanos != 700e6 {
		t.Errorf("got %+v, want only the reader, from the profile: 900ms wall, 700ms off-CPU", w)
	}
}

func TestBlockingSitesNeedsOffCPU(t *testing.T) {
	_, err := blockingSites(fixture.Profile(t, "write"), "writer", 0, 0)
	want := "blocking sites: different sample types (no sample type offcpu/nanoseconds; the profile has samples/count, cpu/nanoseconds; give a wall profile, MODE.ROLE.wall.pb.gz from pipelab profile --view wall)"
	if err == nil || err.Error() != want {
		t.Errorf("got error %v, want %q", err, want)
	}
	var fe *result.FileError
	if !errors.As(err, &fe) || !errors.Is(err, result.ErrSampleTypes) {
		t.Errorf("error %v is not a *FileError wrapping ErrSampleTypes", err)
	}
}
