package report

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/result"
)

// These tests use SYNTHETIC wall profiles, made here in the test and
// never stored under testdata/ as if captured (the captured ones are in
// testdata/wall): the stacks are shaped like the kernel's (pipe_wait_writable
// under anon_pipe_write, ...), the times are round numbers chosen so the
// expected figures can be worked out by hand.

// wallStack is one synthetic stack: frames root first, kernel frames
// suffixed "_[k]", and its values.
type wallStack struct {
	frames  string
	samples int64
	cpu     time.Duration
	off     time.Duration
}

// syntheticWallProfile builds a wall profile shaped like the one
// `pipelab profile --view wall` writes: sample types samples/count,
// cpu/nanoseconds and offcpu/nanoseconds, kernel frames under a
// [kernel.kallsyms] mapping that is not mapping[0], a role label.
func syntheticWallProfile(t *testing.T, role, mode string, stacks []wallStack) *pprof.Profile {
	t.Helper()
	user := &pprof.Mapping{ID: 1, Start: 0x400000, Limit: 0x1000000, File: "/usr/local/bin/pipelab", HasFunctions: true}
	kern := &pprof.Mapping{ID: 2, Start: 0xffffffff81000000, Limit: 0xffffffffc0000000, File: "[kernel.kallsyms]", HasFunctions: true}
	p := &pprof.Profile{
		SampleType: []*pprof.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}, {Type: "offcpu", Unit: "nanoseconds"}},
		PeriodType: &pprof.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     periodNanos,
		Mapping:    []*pprof.Mapping{user, kern},
		Comments:   []string{"SYNTHETIC wall profile made by report's tests, not captured"},
	}
	locs := map[string]*pprof.Location{}
	for _, st := range stacks {
		s := &pprof.Sample{Value: []int64{st.samples, int64(st.cpu), int64(st.off)}, Label: map[string][]string{"role": {role}, "mode": {mode}}}
		names := strings.Split(st.frames, ";")
		for i := len(names) - 1; i >= 0; i-- {
			l := locs[names[i]]
			if l == nil {
				m, addr, fn := user, uint64(0x401000), names[i]
				if k, ok := strings.CutSuffix(names[i], "_[k]"); ok {
					m, addr, fn = kern, 0xffffffff81001000, k
				}
				id := uint64(len(p.Location) + 1)
				f := &pprof.Function{ID: id, Name: fn, SystemName: fn}
				l = &pprof.Location{ID: id, Mapping: m, Address: addr + id*0x40, Line: []pprof.Line{{Function: f}}}
				p.Function = append(p.Function, f)
				p.Location = append(p.Location, l)
				locs[names[i]] = l
			}
			s.Location = append(s.Location, l)
		}
		p.Sample = append(p.Sample, s)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeProfile(t *testing.T, path string, p *pprof.Profile) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

const (
	writePath  = "write;entry_SYSCALL_64_[k];do_syscall_64_[k];ksys_write_[k];vfs_write_[k];anon_pipe_write_[k]"
	readPath   = "read;entry_SYSCALL_64_[k];do_syscall_64_[k];ksys_read_[k];vfs_read_[k];anon_pipe_read_[k]"
	spliceW    = "vmsplice;entry_SYSCALL_64_[k];do_syscall_64_[k];__do_sys_vmsplice_[k]"
	spliceR    = "splice;entry_SYSCALL_64_[k];do_syscall_64_[k];__x64_sys_splice_[k];do_splice_[k]"
	preempted  = ";asm_sysvec_apic_timer_interrupt_[k];irqentry_exit_[k];preempt_schedule_irq_[k];__schedule_[k]"
	toSchedule = ";schedule_[k];__schedule_[k]"
)

// syntheticWallSteps are two steps of a wall-view ladder, write then busy,
// each moving 1 GiB once. write: the writer runs 300ms and sleeps 700ms
// (600ms waiting for room in the pipe, 100ms preempted); the reader's
// JSON claims 200ms + 700ms of a 1s wall, 10% short, to raise the
// on+off≠wall note. busy: 200ms of wall each, nearly all on the CPU.
func syntheticWallSteps() []result.Step {
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	step := func(mode string, gibs float64) result.Step {
		return result.Step{Settings: result.Settings{Mode: mode, Bytes: 1 << 30, BufSize: 256 << 10, PipeSize: 1 << 20, PinWriter: 0, PinReader: 1, Repeat: 1},
			Runs: []float64{gibs}, MedianGiBs: gibs, MinGiBs: gibs, MaxGiBs: gibs, View: "wall"}
	}
	w := step("write", 1)
	w.Warnings = []string{"cycles: not supported here (no hardware PMU)"}
	w.Roles = []result.RoleSummary{
		{Role: "writer", Samples: 300, Lost: 3, WallProfile: "write.writer.wall.pb.gz", WallNanos: ms(1000), OnCPUNanos: ms(300), OffCPUNanos: ms(700), PreemptedNanos: ms(100), Switches: 30000, Wakeups: 28000},
		{Role: "reader", Samples: 200, WallProfile: "write.reader.wall.pb.gz", WallNanos: ms(1000), OnCPUNanos: ms(200), OffCPUNanos: ms(700), Switches: 25000, Wakeups: 24000},
	}
	b := step("busy", 5)
	b.Busy, b.Huge = true, true
	b.Warnings = []string{"cycles: not supported here (no hardware PMU)", "one run only: no spread"}
	b.Roles = []result.RoleSummary{
		{Role: "writer", Samples: 190, WallProfile: "busy.writer.wall.pb.gz", WallNanos: ms(200), OnCPUNanos: ms(190), OffCPUNanos: ms(10), Switches: 40},
		{Role: "reader", Samples: 195, WallProfile: "busy.reader.wall.pb.gz", WallNanos: ms(200), OnCPUNanos: ms(195), OffCPUNanos: ms(5), Switches: 20},
	}
	return []result.Step{w, b}
}

// syntheticWallProfiles are the wall profiles of syntheticWallSteps, by
// file name.
func syntheticWallProfiles(t *testing.T) map[string]*pprof.Profile {
	ms := time.Millisecond
	return map[string]*pprof.Profile{
		"write.writer.wall.pb.gz": syntheticWallProfile(t, "writer", "write", []wallStack{
			{writePath + ";copy_page_from_iter_[k]", 300, 300 * ms, 0},
			{writePath + ";pipe_wait_writable_[k]" + toSchedule, 0, 0, 600 * ms},
			{writePath + preempted, 0, 0, 100 * ms},
		}),
		"write.reader.wall.pb.gz": syntheticWallProfile(t, "reader", "write", []wallStack{
			{readPath + ";copy_page_to_iter_[k]", 200, 200 * ms, 0},
			{readPath + ";pipe_wait_readable_[k]" + toSchedule, 0, 0, 700 * ms},
		}),
		"busy.writer.wall.pb.gz": syntheticWallProfile(t, "writer", "busy", []wallStack{
			{spliceW + ";iov_iter_get_pages2_[k]", 190, 190 * ms, 0},
			{spliceW + preempted, 0, 0, 10 * ms},
		}),
		"busy.reader.wall.pb.gz": syntheticWallProfile(t, "reader", "busy", []wallStack{
			{spliceR + ";splice_from_pipe_[k]", 195, 195 * ms, 0},
			{spliceR + preempted, 0, 0, 5 * ms},
		}),
	}
}

// writeSyntheticWallFolder writes a result folder with syntheticWallSteps,
// their wall profiles, and as each step's CPU profile (MODE.pb.gz) the
// on-CPU part of its wall profiles.
func writeSyntheticWallFolder(t *testing.T, dir string) {
	t.Helper()
	lad := result.Ladder{Env: result.Env{Kernel: "6.18.44-synthetic", CPUModel: "synthetic CPU", CPUs: 2, THP: "madvise", PMU: "software only",
		PerfEventParanoid: -1, PipeMaxSize: 1 << 20, GoVersion: "go1.26.8", Time: time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)},
		Steps: syntheticWallSteps()}
	data, err := json.MarshalIndent(lad, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ladder.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	ps := syntheticWallProfiles(t)
	for name, p := range ps {
		writeProfile(t, filepath.Join(dir, name), p)
	}
	for _, m := range []string{"write", "busy"} {
		cpu, err := pprof.Merge([]*pprof.Profile{onCPU(ps[m+".writer.wall.pb.gz"]), onCPU(ps[m+".reader.wall.pb.gz"])})
		if err != nil {
			t.Fatal(err)
		}
		writeProfile(t, filepath.Join(dir, m+".pb.gz"), cpu)
	}
}

// onCPU returns the samples/count and cpu/nanoseconds part of a wall
// profile.
func onCPU(p *pprof.Profile) *pprof.Profile {
	p = p.Copy()
	p.SampleType = p.SampleType[:2]
	var keep []*pprof.Sample
	for _, s := range p.Sample {
		if s.Value = s.Value[:2]; s.Value[1] != 0 {
			keep = append(keep, s)
		}
	}
	p.Sample = keep
	return p.Compact()
}

func TestWallFigures(t *testing.T) {
	steps := syntheticWallSteps()
	ps := syntheticWallProfiles(t)
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

	changes := wallChanges(write, busy)
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
	if back := wallChanges(busy, write); !near(back[0].Removed, -4) {
		t.Errorf("busy → write: removed %v, want -4 (five times the wall time)", back[0].Removed)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// TestWallFromProfileSums: without wall times in the JSON, the profile's
// cpu and offcpu sums make the split.
func TestWallFromProfileSums(t *testing.T) {
	s := syntheticWallSteps()[0]
	for i := range s.Roles {
		s.Roles[i].WallNanos, s.Roles[i].OnCPUNanos, s.Roles[i].OffCPUNanos = 0, 0, 0
	}
	ps := syntheticWallProfiles(t)
	w, err := Wall(s, map[string]*pprof.Profile{"reader": ps["write.reader.wall.pb.gz"]}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 1 || !w[0].FromProfile || w[0].WallNanos != 900e6 || w[0].OffCPUNanos != 700e6 {
		t.Errorf("got %+v, want only the reader, from the profile: 900ms wall, 700ms off-CPU", w)
	}
}

func TestBlockingSitesNeedsOffCPU(t *testing.T) {
	_, err := blockingSites(fixture(t, "write"), "writer", 0, 0)
	want := "blocking sites: different sample types (no sample type offcpu/nanoseconds; the profile has samples/count, cpu/nanoseconds; give a wall profile, MODE.ROLE.wall.pb.gz from pipelab profile --view wall)"
	if err == nil || err.Error() != want {
		t.Errorf("got error %v, want %q", err, want)
	}
	var fe *result.FileError
	if !errors.As(err, &fe) || !errors.Is(err, result.ErrSampleTypes) {
		t.Errorf("error %v is not a *FileError wrapping ErrSampleTypes", err)
	}
}

func TestWriteReportSyntheticWall(t *testing.T) {
	dir := t.TempDir()
	writeSyntheticWallFolder(t, dir)
	if err := WriteReport(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, result.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.synthetic-wall.md", md)
	for _, want := range []string{
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
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

// TestWriteReportCapturedWall builds the report of testdata/wall, a
// wall-view ladder captured on this machine (see its README.md).
func TestWriteReportCapturedWall(t *testing.T) {
	dir := t.TempDir()
	names, err := filepath.Glob(filepath.Join("testdata", "wall", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.HasSuffix(n, ".md") {
			copyFile(t, n, filepath.Join(dir, filepath.Base(n)))
		}
	}
	f, err := result.OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := summarize(f, Options{})
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
	if err := WriteReport(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, result.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.wall.md", md)
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
