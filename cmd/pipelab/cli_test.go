package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	pprof "github.com/google/pprof/profile"
	"golang.org/x/sys/unix"

	"github.com/pipelab/pipelab/internal/testenv"
	"github.com/pipelab/pipelab/profile"
	"github.com/pipelab/pipelab/result"
)

// mustHavePerfEvents skips (or, under PIPELAB_REQUIRE_PERF=1, fails) when
// `pipelab doctor` says perf_event_open cannot work here.
func mustHavePerfEvents(t *testing.T) {
	t.Helper()
	for _, c := range runChecks(false)[:2] {
		if c.Status == statusNo {
			testenv.Require(t, errors.New(c.Detail), c.Name)
		}
	}
}

func TestRunJSON(t *testing.T) {
	stdout, stderr, code := pipelab(t, t.TempDir(), "run", "--mode", "splice", "--bytes", "64MiB", "--repeat", "3", "--json")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	var s result.Step
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	if s.Mode != "splice" || s.Bytes != 64<<20 || s.BufSize != 256<<10 || s.PipeSize != 128<<10 || len(s.Runs) != 3 {
		t.Errorf("got mode %s bytes %d buf %d pipe %d runs %d, want splice 64MiB 256KiB 128KiB 3", s.Mode, s.Bytes, s.BufSize, s.PipeSize, len(s.Runs))
	}
	if !(s.MinGiBs > 0 && s.MinGiBs <= s.MedianGiBs && s.MedianGiBs <= s.MaxGiBs) {
		t.Errorf("got min %v median %v max %v, want 0 < min <= median <= max", s.MinGiBs, s.MedianGiBs, s.MaxGiBs)
	}
}

func TestRunCSV(t *testing.T) {
	stdout, stderr, code := pipelab(t, t.TempDir(), "run", "--mode", "write", "--bytes", "16MiB", "--repeat", "1", "--csv")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "name,gibibytes_per_second,") || !strings.HasPrefix(lines[1], "write,") {
		t.Errorf("got %q, want a header starting with name,gibibytes_per_second and one row of write", stdout)
	}
}

// TestProfileWrite profiles write mode through the CLI and checks what a
// user would: the files exist, parse, pass CheckValid, carry the roles and
// the post's write path, and `pipelab diff` reads them.
func TestProfileWrite(t *testing.T) {
	mustHavePerfEvents(t)
	dir := t.TempDir()
	stdout, stderr, code := pipelab(t, dir, "profile", "--mode", "write", "--bytes", "256MiB", "--out", "out")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	for _, want := range []string{"write: ", "context-switches", "anon_pipe_write", "anon_pipe_read"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	for _, name := range []string{"write.pb.gz", "write.writer.pb.gz", "write.reader.pb.gz"} {
		p := readProfile(t, filepath.Join(dir, "out", name))
		if !hasFunction(p, "anon_pipe_write") && name != "write.reader.pb.gz" {
			t.Errorf("%s: no anon_pipe_write frame", name)
		}
	}
	s := readStep(t, filepath.Join(dir, "out", "write.json"))
	if len(s.Roles) != 2 || s.Roles[0].Samples == 0 || s.Roles[1].Samples == 0 {
		t.Errorf("write.json roles: got %+v, want writer and reader with samples", s.Roles)
	}
	out, stderr, code := pipelab(t, dir, "diff", "out/write.writer.pb.gz", "out/write.reader.pb.gz")
	if code != 0 || !strings.Contains(out, "anon_pipe_write") {
		t.Errorf("diff: status %d, stderr %q, stdout lacks anon_pipe_write:\n%s", code, stderr, out)
	}
	if !strings.Contains(stdout, "\n  verdict: holds on this kernel: ") && !strings.Contains(stdout, "\n  verdict: differs: ") && !strings.Contains(stdout, "\n  verdict: not told by so few samples: ") {
		t.Errorf("summary lacks the verdict on the post's claim:\n%s", stdout)
	}
	if !strings.Contains(stdout, "\n  writer: copy_page_from_iter ") || !strings.Contains(stdout, " per GiB (95% CI ") {
		t.Errorf("summary lacks the writer's copy time per GiB derived from the samples:\n%s", stdout)
	}
	// The writer's flame graph of a real write step: anon_pipe_write
	// boxes sit on vfs_write boxes.
	if _, stderr, code := pipelab(t, dir, "flame", "out/write.pb.gz", "--tagfocus", "role=writer", "-o", "w.svg"); code != 0 {
		t.Fatalf("flame: status %d: %s", code, stderr)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "w.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if n := framesUnder(t, svg, "anon_pipe_write", "vfs_write"); n == 0 {
		t.Error("the writer's flame graph has no anon_pipe_write box on a vfs_write box")
	}
}

// TestLadder runs a small ladder and checks report.md, the chart and
// ladder.json, then rebuilds the report with `pipelab report`. The
// ladder is the post's steps, then the ceilings beside them: those make
// no transition from the pipe steps, but ladder.json keeps their medians.
func TestLadder(t *testing.T) {
	mustHavePerfEvents(t)
	dir := t.TempDir()
	post := []string{"write", "vmsplice", "splice", "huge", "busy"}
	modes := append(slices.Clone(post), "copy", "ring-busy", "ring-busy+streaming")
	_, stderr, code := pipelab(t, dir, "ladder", "--bytes", "64MiB", "--repeat", "1", "--out", "out")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "out")
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range modes {
		if !strings.Contains(string(md), "### "+m+" ") {
			t.Errorf("report.md has no section for step %s", m)
		}
		for _, f := range []string{".json", ".pb.gz", ".writer.folded", ".reader.folded", ".writer.svg", ".reader.svg"} {
			if _, err := os.Stat(filepath.Join(out, m+f)); err != nil {
				t.Errorf("step %s: %v", m, err)
			}
		}
	}
	if !strings.Contains(string(md), "## Verdicts") || !strings.Contains(string(md), "**The post's bottleneck**: copying pages and allocating them") {
		t.Error("report.md lacks the verdicts on the post's claims")
	}
	checkChart(t, filepath.Join(out, "throughput.svg"), append(slices.Clone(post), "copy", "ring-busy", "+streaming"))
	for _, role := range []string{"writer", "reader"} {
		for _, name := range []string{"busy-copy." + role + ".diff.svg", "copy-ring-busy." + role + ".diff.svg"} {
			if _, err := os.Stat(filepath.Join(out, name)); err == nil {
				t.Errorf("%s: a transition from one transport to another", name)
			}
		}
	}
	for i := 1; i < len(post); i++ {
		for _, role := range []string{"writer", "reader"} {
			name := modes[i-1] + "-" + modes[i] + "." + role + ".diff.svg"
			data, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Errorf("transition %s → %s: %v", modes[i-1], modes[i], err)
				continue
			}
			wellFormed(t, name, data)
			if !strings.Contains(string(md), "("+name+")") {
				t.Errorf("report.md does not embed %s", name)
			}
		}
	}
	var lad result.Ladder
	data, err := os.ReadFile(filepath.Join(out, "ladder.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &lad); err != nil {
		t.Fatal(err)
	}
	if len(lad.Ceilings) != 2 || lad.Ceilings[0].Name != "copy" || lad.Ceilings[0].Step != "copy" || lad.Ceilings[0].MedianGiBs <= 0 ||
		lad.Ceilings[1].Name != "ring" || !strings.HasPrefix(lad.Ceilings[1].Step, "ring-busy") {
		t.Errorf("ladder.json: ceilings %+v, want copy from step copy and ring from a ring-busy step", lad.Ceilings)
	}
	if len(lad.Steps) != len(modes) || lad.Env.Kernel == "" || lad.Env.CPUs < 1 {
		t.Errorf("ladder.json: got %d steps, kernel %q, %d CPUs; want %d steps and the environment", len(lad.Steps), lad.Env.Kernel, lad.Env.CPUs, len(modes))
	}
	if lad.Version != result.FormatVersion || lad.Env.Pipelab == "" {
		t.Errorf("ladder.json: got version %d, pipelab version %q; want version %d and pipelab's own version", lad.Version, lad.Env.Pipelab, result.FormatVersion)
	}
	if len(lad.Steps) > 0 && (lad.Steps[0].Version != result.FormatVersion || lad.Steps[0].Env == nil || lad.Steps[0].Env.Kernel != lad.Env.Kernel) {
		t.Errorf("ladder.json: step %s has version %d and env %+v; want version %d and the ladder's kernel", lad.Steps[0].Mode, lad.Steps[0].Version, lad.Steps[0].Env, result.FormatVersion)
	}
	for _, st := range lad.Steps {
		if st.Cost == nil || st.Cost.Runs != 1 || st.ThroughputFrom != "unprofiled" {
			t.Errorf("ladder.json: step %s: observer %+v, throughput from %q; want 1+1 interleaved runs and unprofiled", st.Mode, st.Cost, st.ThroughputFrom)
		}
	}
	if n := strings.Count(string(md), "profiling cost: "); n != len(modes) {
		t.Errorf("report.md has %d profiling cost lines, want one per step (%d)", n, len(modes))
	}
	os.Remove(filepath.Join(out, "report.md"))
	if stdout, stderr, code := pipelab(t, dir, "report", "out"); code != 0 || !strings.Contains(stdout, "report.md") {
		t.Fatalf("report: status %d, %s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "report.md")); err != nil {
		t.Errorf("pipelab report did not rebuild report.md: %v", err)
	}
}

// checkChart parses the SVG as XML and finds one label per step.
func checkChart(t *testing.T, path string, modes []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	dec := xml.NewDecoder(bytes.NewReader(data))
	inText := false
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			inText = tk.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, strings.TrimSpace(string(tk)))
			}
		case xml.EndElement:
			inText = false
		}
	}
	all := strings.Join(texts, "|")
	for _, m := range modes {
		if !strings.Contains("|"+all+"|", "|"+m+"|") {
			t.Errorf("chart has no label %q (labels: %s)", m, all)
		}
	}
}

// TestInterrupt sends SIGINT to a long run: pipelab stops its children,
// says it was interrupted, exits 130 and leaves the JSON it collected
// marked interrupted.
func TestInterrupt(t *testing.T) {
	mustHavePerfEvents(t)
	// Orphans of the pipelab process come back to this test process, so
	// a child left running after pipelab exits is seen.
	becomeSubreaper(t)
	for _, c := range []struct {
		sig  syscall.Signal
		code int
		line string
	}{
		{syscall.SIGINT, 130, "pipelab: stopped by SIGINT: profiled run 1 of 1: interrupted\n"},
		{syscall.SIGTERM, 143, "pipelab: stopped by SIGTERM: profiled run 1 of 1: interrupted\n"},
	} {
		t.Run(c.sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd := pipelabCmd(t, dir, "profile", "--mode", "write", "--bytes", "1TiB", "--out", "out")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond)
			cmd.Process.Signal(c.sig)
			err := cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != c.code {
				t.Fatalf("exit status: got %d (%v), want %d; stderr:\n%s", code, err, c.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.line) {
				t.Errorf("stderr lacks %q:\n%s", c.line, stderr.String())
			}
			s := readStep(t, filepath.Join(dir, "out", "write.json"))
			if !s.Interrupted {
				t.Errorf("write.json: got interrupted=%v, want true", s.Interrupted)
			}
			readProfile(t, filepath.Join(dir, "out", "write.writer.pb.gz"))
			leftovers, _ := filepath.Glob(filepath.Join(dir, "out", ".*"))
			if len(leftovers) > 0 {
				t.Errorf("temporary files left behind: %v", leftovers)
			}
			if orphans := testenv.Children(os.Getpid()); len(orphans) > 0 {
				t.Errorf("processes left behind by pipelab: %v", orphans)
				for _, pid := range orphans {
					syscall.Kill(pid, syscall.SIGKILL)
					var ws syscall.WaitStatus
					syscall.Wait4(pid, &ws, 0, nil)
				}
			}
		})
	}
}

// becomeSubreaper makes the test process the reaper of its descendants'
// orphans until the test ends, so testenv.Children sees any process a pipelab
// child process leaves behind.
func becomeSubreaper(t *testing.T) {
	t.Helper()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", err)
	}
	t.Cleanup(func() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) })
}

// readStep reads a MODE.json result file.
func readStep(t *testing.T, path string) result.Step {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no result written: %v", err)
	}
	var s result.Step
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

func readProfile(t *testing.T, path string) *pprof.Profile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := pprof.Parse(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

func hasFunction(p *pprof.Profile, name string) bool {
	for _, f := range p.Function {
		if f.Name == name {
			return true
		}
	}
	return false
}

// TestProfileWall runs --view wall and checks what a user would: the wall
// table in the summary, a wall profile per role whose off-CPU time sits
// under the pipe write path, and the split in the JSON adding up to wall.
func TestProfileWall(t *testing.T) {
	mustHavePerfEvents(t)
	dir := t.TempDir()
	stdout, stderr, code := pipelab(t, dir, "profile", "--mode", "write", "--view", "wall", "--bytes", "128MiB", "--out", "out")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	s := readStep(t, filepath.Join(dir, "out", "write.json"))
	if s.View != "wall" {
		testenv.Require(t, fmt.Errorf("it fell back to the %q view: %v", s.View, s.Warnings), "the wall view")
	}
	for _, want := range []string{"wall time per role", "off-CPU", "where it blocked"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	blocked := false
	for _, r := range s.Roles {
		if r.WallProfile != "write."+r.Role+".wall.pb.gz" {
			t.Errorf("%s: wall profile %q, want write.%s.wall.pb.gz", r.Role, r.WallProfile, r.Role)
		}
		if sum := r.OnCPUNanos + r.OffCPUNanos; r.WallNanos <= 0 || math.Abs(float64(sum-r.WallNanos)) > 0.05*float64(r.WallNanos) {
			t.Errorf("%s: on %d + off %d ns, want wall %d ns within 5%%", r.Role, r.OnCPUNanos, r.OffCPUNanos, r.WallNanos)
		}
		p := readProfile(t, filepath.Join(dir, "out", r.WallProfile))
		if len(p.SampleType) != 4 || p.SampleType[2].Type != "offcpu" || p.SampleType[3].Type != "wakeup" {
			t.Errorf("%s: %d sample types, want samples, cpu, offcpu and wakeup", r.WallProfile, len(p.SampleType))
		}
		if hasFunction(p, "anon_pipe_write") || hasFunction(p, "anon_pipe_read") {
			blocked = true
		}
	}
	if !blocked {
		t.Error("no wall profile has the pipe's read or write path")
	}
	testenv.Require(t, profile.ProbeWakeups(), "sched tracepoints")
	other := map[string]string{"writer": "reader", "reader": "writer"}
	for _, r := range s.Roles {
		if r.WakersProfile != "write."+r.Role+".wakers.pb.gz" || r.Wake == nil {
			t.Fatalf("%s: wakers profile %q, wake %v; want write.%s.wakers.pb.gz and figures", r.Role, r.WakersProfile, r.Wake, r.Role)
		}
		top := r.Wake.Wakers[0]
		if top.Waker != other[r.Role] || !strings.Contains(top.From, "anon_pipe_") {
			t.Errorf("%s: top waker %+v, want the %s from its anon_pipe_ path", r.Role, top, other[r.Role])
		}
		if !strings.Contains(stdout, r.Role+" slept ") {
			t.Errorf("summary lacks %q:\n%s", r.Role+" slept", stdout)
		}
		p := readProfile(t, filepath.Join(dir, "out", r.WakersProfile))
		if n := len(p.SampleType); n != 3 || p.SampleType[2].Type != "sleep" || len(p.Sample) == 0 || p.Sample[0].Label["waker"] == nil {
			t.Errorf("%s: %d sample types, %d samples; want wakeups, wakeup, sleep, labelled by waker", r.WakersProfile, n, len(p.Sample))
		}
	}
}

// TestVerify runs --verify as the post's double buffer (every byte as
// written) and as the vmsplice-reuse experiment, where the writer rewrites
// a half-buffer as soon as vmsplice returns and the reader gets the new
// bytes: the command says so and records where.
func TestVerify(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := pipelab(t, dir, "run", "--mode", "vmsplice", "--verify", "--bytes", "32MiB", "--repeat", "2", "--json")
	if code != 0 || !strings.Contains(stderr, "--verify: the reader checked every byte of 2 run(s): all as written") {
		t.Errorf("clean --verify: status %d, stderr %q", code, stderr)
	}
	var s result.Step
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || !s.Verify || len(s.CorruptOffsets) != 0 {
		t.Errorf("clean --verify JSON: %v, %+v", err, s)
	}
	stdout, stderr, code = pipelab(t, dir, "run", "--mode", "vmsplice", "--verify", "--rewrite-after-splice", "--bytes", "32MiB", "--repeat", "3", "--json")
	if code != 0 || !strings.Contains(stderr, "--rewrite-after-splice: the reader got bytes the writer wrote after vmsplice returned") {
		t.Errorf("experiment: status %d, stderr %q", code, stderr)
	}
	s = result.Step{}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || !s.RewriteAfterSplice || len(s.CorruptOffsets) == 0 {
		t.Errorf("experiment JSON: %v, want corrupt_offsets; got %+v", err, s)
	}
}

// asNobody runs a copy of the test binary as pipelab with args, as uid and
// gid 65534, in a fresh world-writable directory it returns.
func asNobody(t *testing.T, args ...string) (dir string, out []byte, err error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run pipelab as an unprivileged user")
	}
	dir, err = os.MkdirTemp("", "pipelab-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "pipelab")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PIPELAB_TEST_MAIN=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err = cmd.CombinedOutput()
	return dir, out, err
}

// paranoid is kernel.perf_event_paranoid, or -1.
func paranoid() int {
	b, err := os.ReadFile("/proc/sys/kernel/perf_event_paranoid")
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}

// TestProfileUnprivileged runs profile as an unprivileged user. At
// kernel.perf_event_paranoid 2 the kernel refuses kernel-side events:
// profile must degrade to user space, say so, and still write valid
// profiles with user stacks and counters; doctor must say LIMITED.
func TestProfileUnprivileged(t *testing.T) {
	mustHavePerfEvents(t)
	// User-only sampling sees only the few percent of time the children
	// spend in user space, so sample faster than the default to be sure
	// of samples in 256MiB.
	dir, out, err := asNobody(t, "profile", "--mode", "write", "--bytes", "256MiB", "--freq", "9999", "--out", "out")
	if err != nil {
		t.Fatalf("profile as uid 65534: %v\n%s", err, out)
	}
	userOnly := paranoid() >= 2
	if userOnly && !strings.Contains(string(out), "user space only") {
		t.Errorf("paranoid %d: output does not say profiles are user space only:\n%s", paranoid(), out)
	}
	p := readProfile(t, filepath.Join(dir, "out", "write.pb.gz"))
	if len(p.Sample) == 0 {
		t.Fatalf("write.pb.gz has no samples:\n%s", out)
	}
	for _, loc := range p.Location {
		if userOnly && loc.Mapping != nil && loc.Mapping.File == "[kernel.kallsyms]" {
			t.Errorf("a kernel frame at %#x in a user-only profile", loc.Address)
		}
	}
	// /proc/kallsyms hides kernel addresses from this user: the warning
	// must blame the setting that does it, as doctor does.
	kptr, _ := os.ReadFile("/proc/sys/kernel/kptr_restrict")
	if strings.TrimSpace(string(kptr)) == "0" && paranoid() >= 2 {
		want := fmt.Sprintf("kernel.perf_event_paranoid=%d hides them from users without CAP_SYSLOG, kernel.kptr_restrict being 0; run as root, or set perf_event_paranoid to 1 or lower", paranoid())
		if !strings.Contains(string(out), want) || strings.Contains(string(out), "kernel.kptr_restrict hides") {
			t.Errorf("kptr_restrict 0, paranoid %d: the kernel symbols warning does not blame perf_event_paranoid (%q):\n%s", paranoid(), want, out)
		}
	}
	if paranoid() >= 1 && !strings.Contains(string(out), "sampling each thread instead") {
		t.Errorf("paranoid %d: output does not say CPU-wide sampling was refused:\n%s", paranoid(), out)
	}
	checkLabels(t, p) // the per-thread samplers' samples carry cpu too
	_, out, err = asNobody(t, "doctor")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("doctor as uid 65534: %v, want exit status 1 (limited)\n%s", err, out)
	}
	if userOnly && !strings.Contains(string(out), "LIMITED  perf_event_open") {
		t.Errorf("doctor as uid 65534 does not say perf_event_open is LIMITED:\n%s", out)
	}
}

// TestChildStalls makes the reader stop making progress part way (the
// bench test hook PIPELAB_TEST_FAULT) under --timeout: pipelab must stop
// both children, say which role failed and how, write what it collected
// marked incomplete, exit 1, and leave no process behind.
func TestChildStalls(t *testing.T) {
	mustHavePerfEvents(t)
	becomeSubreaper(t)
	dir := t.TempDir()
	cmd := pipelabCmd(t, dir, "profile", "--mode", "write", "--bytes", "1GiB", "--timeout", "1s", "--out", "out")
	cmd.Env = append(cmd.Env, "PIPELAB_TEST_FAULT=reader:stall")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit status %d, want 1; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "reader: made no progress for 1s (--timeout)") {
		t.Errorf("stderr does not say the reader stalled:\n%s", stderr.String())
	}
	s := readStep(t, filepath.Join(dir, "out", "write.json"))
	if !s.Incomplete {
		t.Errorf("write.json: incomplete=%v, want true", s.Incomplete)
	}
	readProfile(t, filepath.Join(dir, "out", "write.writer.pb.gz"))
	if orphans := testenv.Children(os.Getpid()); len(orphans) > 0 {
		t.Errorf("processes left behind by pipelab: %v", orphans)
	}
}

// TestProfileInterleaved checks what profile --repeat 2 promises: two
// unprofiled, two profiled and two counted transfers; throughput from the
// unprofiled ones, the observer's figures in MODE.json and the cost line
// in the summary; and that --no-baseline runs no unprofiled transfer and
// says where its throughput came from.
func TestProfileInterleaved(t *testing.T) {
	mustHavePerfEvents(t)
	dir := t.TempDir()
	stdout, stderr, code := pipelab(t, dir, "profile", "--mode", "splice", "--bytes", "128MiB", "--repeat", "2", "--out", "out")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	s := readStep(t, filepath.Join(dir, "out", "splice.json"))
	ob := s.Cost
	if ob == nil {
		t.Fatalf("splice.json has no observer:\n%s", stdout)
	}
	if ob.Runs != 2 || ob.CountedRuns != 2 || len(s.Runs) != 2 || s.ThroughputFrom != "unprofiled" {
		t.Errorf("got %d+%d runs, %d counted, %d throughput runs from %q; want 2+2, 2 counted, 2 from unprofiled", ob.Runs, ob.Runs, ob.CountedRuns, len(s.Runs), s.ThroughputFrom)
	}
	if ob.UnprofiledMedianGiBs != float64(s.MedianGiBs) || math.Abs(ob.Ratio-ob.ProfiledMedianGiBs/ob.UnprofiledMedianGiBs) > 1e-9 {
		t.Errorf("observer %+v: want unprofiled median %.3f (the step's) and ratio profiled/unprofiled", ob, s.MedianGiBs)
	}
	if !strings.Contains(stdout, ob.Line()) || !strings.HasPrefix(ob.Line(), "profiling cost: ") || !strings.Contains(ob.Line(), "2+2 interleaved runs") {
		t.Errorf("summary lacks the cost line %q:\n%s", ob.Line(), stdout)
	}
	for _, r := range s.Roles {
		if r.CountedRuns != 2 || len(r.Counters) == 0 || r.Counters[1].Name != "context-switches" || r.Counters[1].Raw == 0 {
			t.Errorf("%s: counted %d transfers, counters %+v; want context switches from 2 counted transfers", r.Role, r.CountedRuns, r.Counters)
		}
		if len(r.PIDs) != 2 {
			t.Errorf("%s: pids %v, want the two profiled transfers' children", r.Role, r.PIDs)
		}
	}
	stdout, stderr, code = pipelab(t, dir, "profile", "--mode", "splice", "--bytes", "64MiB", "--no-baseline", "--out", "nobase")
	if code != 0 {
		t.Fatalf("--no-baseline: exit status %d: %s", code, stderr)
	}
	s = readStep(t, filepath.Join(dir, "nobase", "splice.json"))
	if s.Cost != nil || s.ThroughputFrom != "profiled" || len(s.Runs) != 1 {
		t.Errorf("--no-baseline: observer %+v, throughput from %q over %d runs; want none, profiled, 1", s.Cost, s.ThroughputFrom, len(s.Runs))
	}
	if !strings.Contains(stdout, "throughput from the profiled transfers (--no-baseline") {
		t.Errorf("--no-baseline: summary does not say where throughput came from:\n%s", stdout)
	}
	// Unpinned, the counted transfers count just the same.
	_, stderr, code = pipelab(t, dir, "profile", "--mode", "write", "--bytes", "64MiB", "--no-baseline", "--pin", "none", "--out", "unpinned")
	if code != 0 {
		t.Fatalf("--pin none: exit status %d: %s", code, stderr)
	}
	s = readStep(t, filepath.Join(dir, "unpinned", "write.json"))
	for _, r := range s.Roles {
		if r.CountedRuns != 1 || len(r.Counters) < 2 || r.Counters[0].Value <= 0 || r.Counters[1].Raw == 0 {
			t.Errorf("--pin none: %s counted %d transfer(s), counters %+v; want task-clock and context switches", r.Role, r.CountedRuns, r.Counters)
		}
	}
}

// TestProfileSamples: --samples sizes the transfers by what the roles
// should sample, not by --bytes alone: a calibration transfer says how
// much more than 16MiB the profiled transfers need, stderr says what it
// chose, and each role ends with the samples asked for, or the step
// says which fell short.
func TestProfileSamples(t *testing.T) {
	mustHavePerfEvents(t)
	dir := t.TempDir()
	const want = 300
	_, stderr, code := pipelab(t, dir, "profile", "--mode", "splice", "--bytes", "16MiB", "--repeat", "2", "--samples", strconv.Itoa(want), "--out", "out")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "sizing the transfers for 300 samples per role (--samples)") || !strings.Contains(stderr, "splice: ") {
		t.Errorf("stderr does not say how the transfers were sized:\n%s", stderr)
	}
	s := readStep(t, filepath.Join(dir, "out", "splice.json"))
	if s.Bytes <= 16<<20 {
		t.Errorf("transfers of %d bytes: want more than --bytes 16MiB for %d samples per role", s.Bytes, want)
	}
	for _, r := range s.Roles {
		short := fmt.Sprintf("%s: %d samples, fewer than the %d the transfers were sized for", r.Role, r.Samples, want)
		if r.Samples < want && !slices.ContainsFunc(s.Warnings, func(w string) bool { return strings.HasPrefix(w, short) }) {
			t.Errorf("%s: %d samples, fewer than %d, and no warning says so (warnings %q)", r.Role, r.Samples, want, s.Warnings)
		}
	}
}
