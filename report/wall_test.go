package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/internal/table"
	"github.com/pipelab/pipelab/result"
)

func TestWriteSyntheticWall(t *testing.T) {
	dir := t.TempDir()
	fixture.WriteWallFolder(t, dir)
	md := writeReport(t, dir)
	fixture.Golden(t, "report.synthetic-wall.md", md)
	reportHas(t, md,
		"| role | wall | on-CPU | off-CPU | of which preempted | wall per GiB | context switches per GiB | wake-ups per GiB |",
		"| writer | 1.00s | 300.00ms (30.00%) | 700.00ms (70.00%) | 100.00ms (10.00%) | 1.00s | 30000 | 28000 |",
		"| reader | 1.00s | 200.00ms (20.00%) | 700.00ms (70.00%) | 0 (0.00%) | 1.00s | 25000 | 24000 |",
		"| writer | 200.00ms | 190.00ms (95.00%) | 10.00ms (5.00%) | 200.00ms | 40.0 | 0.0 |",
		"Median throughput 1.00 → 5.00 GiB/s: ×5.00, too few runs (1 and 1) to test the change: a U-test needs 4 per step.",
		"| `pipe_wait_writable` | `anon_pipe_write` | 600.00ms | 85.71% | 60.00% |",
		"| `irqentry_exit` | `asm_sysvec_apic_timer_interrupt` | 100.00ms | 14.29% | 10.00% |",
		"- writer: wall time per GiB 1.00s → 200.00ms, 80.00% less (on-CPU -11.00pp, off-CPU -69.00pp of the write wall time).",
		"**writer** — 300 samples, 300.00ms on CPU; 0.00% of it ends on irq-enable points.",
		"| `pipe_write` | `anon_pipe_write` | 0.00% | 100.00% |",
		"| `iov_iter_get_pages2` | `iov_iter_get_pages` | 0.00% | 100.00% | +100.00pp | 0.00% | 100.00% |",
		"[^1]: write: the writer lost 3 samples (0.99% of 303); the profile keeps them as a [lost] frame, so shares are of what was recorded\n",
		"[^3]: write: the reader's on-CPU plus off-CPU time is 90.00% of its wall time, more than 5% away from it; read the split with care\n",
		"[^2]: every step: cycles: not supported here (no hardware PMU)\n",
		"[^4]: busy: one run only: no spread\n",
		"wall view.[^1][^2][^3]\n",
		"wall view.[^2][^4]\n",
		"The wall time tables come from the wall view",
		"The kernel dropped 3 of 888 samples (0.34%)",
	)
}

// TestWriteCapturedWall builds the report of the fixture's wall
// folder (internal/fixture/testdata/wall), a wall-view ladder captured on
// this machine (see its README.md).
func TestWriteCapturedWall(t *testing.T) {
	dir := t.TempDir()
	names, err := filepath.Glob(fixture.Path("wall", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.HasSuffix(n, ".md") {
			fixture.CopyFile(t, n, filepath.Join(dir, filepath.Base(n)))
		}
	}
	f, err := result.OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := summarize(f, attribute.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Notes) != 4 { // the four hardware counters this VM lacks
		t.Errorf("got notes %q, want only the four unsupported hardware counters (on+off within 5%% of wall everywhere)", s.Notes)
	}
	for _, st := range s.Steps {
		if len(st.Wall) != 2 {
			t.Fatalf("%s: %d roles with wall data, want 2", st.Step.Mode, len(st.Wall))
		}
		for _, w := range st.Wall {
			if w.OffCPUShare < 0.5 || len(w.Blocking) == 0 {
				t.Errorf("%s %s: off-CPU share %.2f, %d blocking sites; a blocking mode sleeps most of its wall time", st.Step.Mode, w.Role, w.OffCPUShare, len(w.Blocking))
			}
		}
	}
	// Where the post says the time goes: the writer of vmsplice waits for
	// room in the pipe; write's roles wait inside the pipe's own read and
	// write (anon_pipe_* wait inline since 6.15) or in pipe_wait_*.
	if b := s.Steps[1].Wall[0].Blocking[0]; b.Site != "pipe_wait_writable" || b.Caller != "wait_for_space" || b.Share < 0.5 {
		t.Errorf("vmsplice writer's top blocking site: got %+v, want pipe_wait_writable ← wait_for_space with most of the off-CPU time", b)
	}
	pipeWait := map[string]bool{"anon_pipe_write": true, "anon_pipe_read": true, "pipe_wait_writable": true, "pipe_wait_readable": true}
	for _, w := range s.Steps[0].Wall {
		if b := w.Blocking[0]; !pipeWait[b.Site] {
			t.Errorf("write %s's top blocking site: got %+v, want a pipe wait", w.Role, b)
		}
	}
	md := writeReport(t, dir)
	fixture.Golden(t, "report.wall.md", md)
	checkEmbeddedImages(t, dir, md)
	for _, name := range []string{"vmsplice.writer.offcpu.svg", "vmsplice.reader.offcpu.svg"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "<title>pipe_wait_writable [kernel]") && name == "vmsplice.writer.offcpu.svg" {
			t.Errorf("%s: no pipe_wait_writable box in the writer's off-CPU flame graph", name)
		}
	}
}

func TestWriteWallSaysWhoWoke(t *testing.T) {
	var b strings.Builder
	w := attribute.WallRole{Role: "writer", WallNanos: 200e6, OnCPUNanos: 100e6, OffCPUNanos: 100e6, WakeupsPerGiB: 4096, Wake: &result.WakeSummary{
		WaitingNanos: 55e6, WakeupNanos: 45e6, Sleeps: 91, LatencyMedianNanos: 39e3, LatencyP90Nanos: 60e3, LatencyP99Nanos: 130e3,
		Wakers: []result.WakerShare{{Waker: "reader", Sleeps: 91, SleepNanos: 100e6, From: "anon_pipe_read → __wake_up_sync_key"}},
	}}
	writeWall(&table.MarkdownWriter{W: &b}, []attribute.WallRole{w})
	want := "- writer slept 100.00ms (4096 sleeps/GiB): 100.00% woken by the reader from anon_pipe_read → __wake_up_sync_key, wake-up latency median 39.00us (p90 60.00us, p99 130.00us), 45.00% of off-CPU time (waiting 55.00ms, wake-up 45.00ms; wakers in `MODE.writer.wakers.pb.gz`).\n"
	if !strings.Contains(b.String(), want) {
		t.Errorf("report.md's wall section lacks\n%s\ngot\n%s", want, b.String())
	}
}
