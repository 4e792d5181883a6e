package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	pprof "github.com/google/pprof/profile"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/result"
)

// Environment variables the checks read (see the package comment).
const (
	binEnv   = "PIPELAB_BIN"
	outEnv   = "PIPELAB_E2E_OUT"
	bytesEnv = "PIPELAB_E2E_BYTES"
)

// commandTimeout bounds one pipelab command: a ladder under emulation takes
// tens of seconds, so a command past this has hung.
const commandTimeout = 4 * time.Minute

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	// scratch holds the built pipelab and, without PIPELAB_E2E_OUT, the
	// checks' folders, which later checks read (TestVerdicts reads
	// TestLadder's); it is removed when the tests end.
	scratch string
	// outDir is PIPELAB_E2E_OUT, else scratch/out.
	outDir string
)

func TestMain(m *testing.M) {
	var err error
	scratch, err = os.MkdirTemp("", "pipelab-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	outDir = os.Getenv(outEnv)
	if outDir == "" {
		outDir = filepath.Join(scratch, "out")
	}
	code := m.Run()
	os.RemoveAll(scratch)
	os.Exit(code)
}

// pipelabBin returns PIPELAB_BIN, or builds pipelab from this module once.
func pipelabBin(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv(binEnv); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		builtBin = filepath.Join(scratch, "pipelab")
		out, err := exec.Command("go", "build", "-o", builtBin, "github.com/pipelab/pipelab/cmd/pipelab").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build pipelab (or set %s): %v", binEnv, buildErr)
	}
	return builtBin
}

// transferSize is the --bytes value of every transfer.
func transferSize() string {
	if s := os.Getenv(bytesEnv); s != "" {
		return s
	}
	return "16MiB"
}

// keepDir returns a fresh folder named name under outDir.
func keepDir(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(outDir, name)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// keepFile writes data to outDir/name.
func keepFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outDir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs pipelab with args in dir and returns its stdout, stderr and exit
// status.
func run(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, pipelabBin(t), args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("pipelab %s: no exit within %v; stderr:\n%s", strings.Join(args, " "), commandTimeout, tail(errb.String(), 20))
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("pipelab %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// cell logs the line the matrix puts in its table for this check.
func cell(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf("result: "+format, args...)
}

// failure is what pipelab said on stderr when it failed: its last line
// (the error), then the lines before it.
func failure(stderr string) string {
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if len(lines) == 1 {
		return last
	}
	return last + "\nstderr:\n" + tail(strings.Join(lines[:len(lines)-1], "\n"), 10)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// doctorCheck is one line of `pipelab doctor --json`.
type doctorCheck struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

var (
	doctorOnce   sync.Once
	doctorChecks []doctorCheck
)

// doctorLine returns doctor's line named name (zero when it has none).
func doctorLine(t *testing.T, name string) doctorCheck {
	t.Helper()
	doctorOnce.Do(func() {
		stdout, _, _ := run(t, t.TempDir(), "doctor", "--json")
		var d struct {
			Checks []doctorCheck `json:"checks"`
		}
		if json.Unmarshal([]byte(stdout), &d) == nil {
			doctorChecks = d.Checks
		}
	})
	for _, c := range doctorChecks {
		if c.Name == name {
			return c
		}
	}
	return doctorCheck{}
}

// TestDoctor runs `pipelab doctor --json`: it must say profiling can work
// (exit 0, or 1 when limited), with one line per check.
func TestDoctor(t *testing.T) {
	stdout, stderr, code := run(t, t.TempDir(), "doctor", "--json")
	keepFile(t, "doctor.json", []byte(stdout))
	var d struct {
		Checks []doctorCheck `json:"checks"`
		Exit   int           `json:"exit_status"`
	}
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("doctor --json: stdout is not JSON (%v), exit status %d, stderr %s", err, code, stderr)
	}
	if code != d.Exit || code == 2 || len(d.Checks) == 0 {
		t.Fatalf("doctor: exit status %d, exit_status %d, %d checks; want 0 or 1 and the same in the JSON", code, d.Exit, len(d.Checks))
	}
	counts := map[string]int{}
	var notOK []string
	for _, c := range d.Checks {
		counts[c.Status]++
		if c.Status != "OK" {
			notOK = append(notOK, c.Status+" "+c.Name)
		}
	}
	line := fmt.Sprintf("%d OK", counts["OK"])
	if len(notOK) > 0 {
		line += "; " + strings.Join(notOK, "; ")
	}
	cell(t, "%s", line)
}

// TestSymbols resolves the post's kernel symbols through the alias table on
// this kernel's /proc/kallsyms: a symbol the table says this release has as
// a function of its own must be there.
func TestSymbols(t *testing.T) {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		t.Skipf("no symbol table: %v", err)
	}
	defer f.Close()
	release, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		t.Fatal(err)
	}
	st, err := attribute.ResolveAliases(f, strings.TrimSpace(string(release)))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	keepFile(t, "symbols.json", data)
	found := 0
	for _, a := range st {
		if len(a.Found) > 0 {
			found++
		}
		for _, s := range a.Symbols {
			if s.Expected && !s.Present {
				t.Errorf("%s: the alias table expects %s on %s, the kernel has none of it", a.Post, s.Name, strings.TrimSpace(string(release)))
			}
		}
	}
	if found == 0 {
		t.Fatalf("none of the post's %d symbols found: is kptr_restrict hiding them?", len(st))
	}
	cell(t, "%d of %d found", found, len(st))
}

// TestRun moves every mode's bytes through a real pipe once.
func TestRun(t *testing.T) {
	size := transferSize()
	ok := 0
	var unsupported []string
	modes := bench.Modes()
	for _, m := range modes {
		t.Run(m.Name, func(t *testing.T) {
			o := bench.DefaultOptions()
			o.Mode = m.Name
			if err := bench.Supported(o); err != nil {
				unsupported = append(unsupported, m.Name)
				t.Skipf("this machine cannot run %s: %v", m.Name, err)
			}
			stdout, stderr, code := run(t, t.TempDir(), "run", "--mode", m.Name, "--bytes", size, "--repeat", "1", "--json")
			if code != 0 {
				t.Fatalf("exit status %d: %s", code, failure(stderr))
			}
			var s result.Step
			if err := json.Unmarshal([]byte(stdout), &s); err != nil {
				t.Fatalf("stdout is not one JSON step: %v\n%s", err, stdout)
			}
			if s.Mode != m.Name || len(s.Runs) != 1 || !(s.Runs[0] > 0) || s.Incomplete || s.Bytes <= 0 {
				t.Fatalf("got mode %s, %d bytes, runs %v, incomplete %v; want %s, one run that moved its bytes", s.Mode, s.Bytes, s.Runs, s.Incomplete, m.Name)
			}
			ok++
		})
	}
	if len(unsupported) > 0 {
		cell(t, "%d of %d modes (%s not supported here)", ok, len(modes), strings.Join(unsupported, ", "))
		return
	}
	cell(t, "%d of %d modes", ok, len(modes))
}

// TestCommands runs a writer command and a reader command of the shell's
// tools (dd, cat) on either side of pipelab's pipe.
func TestCommands(t *testing.T) {
	stdout, stderr, code := run(t, t.TempDir(), "run", "--writer-cmd", "dd if=/dev/zero bs=64k count=256 status=none",
		"--reader-cmd", "cat >/dev/null", "--repeat", "1", "--json")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, failure(stderr))
	}
	var s result.Step
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("stdout is not one JSON step: %v\n%s", err, stdout)
	}
	if len(s.Runs) != 1 || len(s.Commands) != 2 {
		t.Fatalf("got runs %v, commands %+v; want one run of both commands", s.Runs, s.Commands)
	}
	for _, c := range s.Commands {
		if c.Status != "exited with status 0" {
			t.Errorf("command %+v, want exited with status 0", c)
		}
	}
	cell(t, "dd | cat")
}

// profileStep runs `pipelab profile` of vmsplice with extra args into a
// kept folder and returns the step it saved and its stdout and stderr.
func profileStep(t *testing.T, name string, extra ...string) (s result.Step, dir, stdout, stderr string) {
	t.Helper()
	dir = keepDir(t, name)
	args := append([]string{"profile", "--mode", "vmsplice", "--bytes", transferSize(), "--repeat", "1", "--out", dir}, extra...)
	stdout, stderr, code := run(t, t.TempDir(), args...)
	if code != 0 || strings.Contains(stdout, "INCOMPLETE") {
		t.Fatalf("exit status %d: %s\nstdout:\n%s", code, failure(stderr), tail(stdout, 20))
	}
	if hw := doctorLine(t, "hardware counters"); hw.Status == "OK" {
		for _, line := range strings.Split(stdout+stderr, "\n") {
			if strings.Contains(line, "no hardware PMU") {
				t.Errorf("pipelab says %q where doctor says %q", strings.TrimSpace(line), hw.Detail)
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "vmsplice.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("vmsplice.json: %v", err)
	}
	if strings.Contains(stdout, "--no-baseline") {
		t.Errorf("the summary mentions --no-baseline, which was not given:\n%s", stdout)
	}
	return s, dir, stdout, stderr
}

// TestProfileCPU profiles vmsplice in the cpu view: both roles have
// samples, and the profile opens in pprof with kernel frames.
func TestProfileCPU(t *testing.T) {
	s, dir, stdout, _ := profileStep(t, "profile-cpu")
	profileSummary = stdout
	if len(s.Roles) != 2 {
		t.Fatalf("got %d roles, want writer and reader", len(s.Roles))
	}
	for _, r := range s.Roles {
		if r.Samples == 0 {
			t.Errorf("%s: no samples", r.Role)
		}
	}
	p, err := readProfile(filepath.Join(dir, "vmsplice.pb.gz"))
	if err != nil {
		t.Fatal(err)
	}
	kernel := 0
	for _, f := range p.Function {
		if strings.HasPrefix(f.Name, "__do_sys_vmsplice") || strings.Contains(f.Name, "pipe_read") {
			kernel++
		}
	}
	if kernel == 0 {
		t.Error("vmsplice.pb.gz: no __do_sys_vmsplice or pipe_read frame")
	}
	// Where doctor says the PMU counts (cycles always, instructions where
	// this PMU counts them: QEMU's emulated PMUv3 does only under
	// -icount), they are counted per role, and the summary shows them per
	// byte moved.
	line := "sampled " + s.Event
	if hw := doctorLine(t, "hardware counters"); hw.Status == "OK" || strings.HasPrefix(hw.Detail, "counts but cannot sample") {
		var counted []string
		for _, name := range doctorCounts(hw.Detail) {
			if name != "cycles" && name != "instructions" {
				continue
			}
			for _, r := range s.Roles {
				c := counter(r.Counters, name)
				if c == nil || !c.Supported || !(c.Value > 0) || !(c.PerByte > 0) {
					t.Errorf("%s: %s %+v, want a count and a count per byte where doctor says %q", r.Role, name, c, hw.Detail)
				}
			}
			if row := summaryRow(stdout, name); row == "" || strings.Contains(row, "not supported") {
				t.Errorf("the summary's %s row is %q, want its counts:\n%s", name, row, stdout)
			}
			if row := summaryRow(stdout, name+"/byte"); row == "" {
				t.Errorf("the summary has no %s/byte row:\n%s", name, stdout)
			}
			counted = append(counted, name+"/byte")
		}
		if len(counted) == 0 {
			t.Errorf("doctor's hardware counters line %q names no counted cycles", hw.Detail)
		}
		line += "; " + strings.Join(counted, ", ")
	}
	cell(t, "%s", line)
}

// doctorCounts lists the hardware counters doctor's hardware counters
// line says open: the list after "; counts " ("... (profile samples
// cycles); counts cycles, instructions; not counted by this PMU: ...").
func doctorCounts(detail string) []string {
	_, list, _ := strings.Cut(detail, "; counts ")
	list, _, _ = strings.Cut(list, ";")
	return strings.Split(list, ", ")
}

// counter returns the counter named name, or nil.
func counter(cs []result.Counter, name string) *result.Counter {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

// summaryRow returns the line of profile's summary whose first field is
// name (a counter's row), or "".
func summaryRow(summary, name string) string {
	for _, line := range strings.Split(summary, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// readProfile reads and validates a pprof file.
func readProfile(path string) (*pprof.Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := pprof.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, p.CheckValid()
}

// TestProfileWall profiles vmsplice in the wall view: each role's wall time
// splits into on-CPU and off-CPU time, and pipelab has no disagreement to
// warn about between its clocks.
func TestProfileWall(t *testing.T) {
	s, _, stdout, stderr := profileStep(t, "profile-wall", "--view", "wall")
	for _, r := range s.Roles {
		if r.WallNanos <= 0 || r.OnCPUNanos <= 0 || r.OffCPUNanos < 0 {
			t.Errorf("%s: wall %d ns, on-CPU %d ns, off-CPU %d ns; want a wall time split into on and off CPU", r.Role, r.WallNanos, r.OnCPUNanos, r.OffCPUNanos)
		}
	}
	for _, line := range strings.Split(stdout+stderr, "\n") {
		if strings.Contains(line, "disagree") {
			t.Errorf("pipelab warns: %s", strings.TrimSpace(line))
		}
	}
	if len(s.Roles) != 2 {
		t.Fatalf("got %d roles, want writer and reader", len(s.Roles))
	}
	cell(t, "on- and off-CPU time per role")
}

// ladderDir is the folder TestLadder wrote, for TestVerdicts and
// TestEmulation; profileSummary what TestProfileCPU printed.
var ladderDir, profileSummary string

// TestLadder runs the post's ladder: every step profiled, report.md and
// ladder.json written.
func TestLadder(t *testing.T) {
	dir := keepDir(t, "ladder")
	_, stderr, code := run(t, t.TempDir(), "ladder", "--bytes", transferSize(), "--repeat", "1", "--out", dir)
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, failure(stderr))
	}
	var lad result.Ladder
	data, err := os.ReadFile(filepath.Join(dir, "ladder.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &lad); err != nil {
		t.Fatalf("ladder.json: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.md")); err != nil {
		t.Fatal(err)
	}
	profiled := 0
	for _, st := range lad.Steps {
		if _, err := os.Stat(filepath.Join(dir, st.Mode+".pb.gz")); err == nil {
			profiled++
		} else {
			t.Errorf("step %s: %v", st.Mode, err)
		}
	}
	if len(lad.Steps) == 0 {
		t.Fatal("ladder.json has no steps")
	}
	ladderDir = dir
	cell(t, "%d of %d steps profiled", profiled, len(lad.Steps))
}

// TestVerdicts reads the ladder's report.md: the post's claims are
// checked against the steps' profiles. A claim a small transfer gave too
// few samples to check is listed with the reason; none checked fails.
func TestVerdicts(t *testing.T) {
	if ladderDir == "" {
		t.Skip("no ladder: TestLadder did not write one")
	}
	md, err := os.ReadFile(filepath.Join(ladderDir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := verdictRows(string(md))
	if err != nil {
		t.Fatal(err)
	}
	var unchecked []string
	for _, r := range rows {
		if strings.Contains(r.verdict, "cannot be checked") {
			unchecked = append(unchecked, r.step+" "+r.verdict+": "+r.figures)
		}
	}
	if len(unchecked) == len(rows) {
		t.Fatalf("no verdict checked: %s", strings.Join(unchecked, "; "))
	}
	line := fmt.Sprintf("%d of %d checked", len(rows)-len(unchecked), len(rows))
	if len(unchecked) > 0 {
		line += "; " + strings.Join(unchecked, "; ")
	}
	cell(t, "%s", line)
}

// verdictRow is one row of report.md's verdict table.
type verdictRow struct{ step, verdict, figures string }

// verdictRows reads the table under "## Verdicts" in a report.md.
func verdictRows(md string) ([]verdictRow, error) {
	_, after, ok := strings.Cut(md, "\n## Verdicts\n")
	if !ok {
		return nil, errors.New("report.md has no Verdicts section")
	}
	if i := strings.Index(after, "\n## "); i >= 0 {
		after = after[:i]
	}
	var rows []verdictRow
	for _, line := range strings.Split(after, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if !strings.HasPrefix(line, "| `") || len(cells) < 4 {
			continue
		}
		rows = append(rows, verdictRow{strings.Trim(cells[0], "`"), strings.Trim(cells[2], "*"), cells[3]})
	}
	if len(rows) == 0 {
		return nil, errors.New("report.md's Verdicts section has no rows")
	}
	return rows, nil
}

// TestEmulation checks that an emulated CPU is said everywhere a figure is
// read: doctor, profile's summary, ladder.json and report.md. In the
// matrix's guests the kernel command line says how the guest runs
// (pipelab.accel=tcg or kvm): under TCG they must say "emulated CPU (QEMU
// TCG): timings are not the hardware's", under KVM nothing of the kind;
// elsewhere they must agree with doctor.
func TestEmulation(t *testing.T) {
	const note = "emulated CPU (QEMU TCG): timings are not the hardware's"
	line := doctorLine(t, "emulation")
	if line.Name == "" {
		t.Fatal("doctor has no emulation line")
	}
	emulated := strings.Contains(line.Detail, note)
	switch accel := guestAccel(); {
	case accel == "tcg" && (!emulated || line.Status != "LIMITED"):
		t.Errorf("a TCG guest, and doctor says %s %q; want LIMITED %q", line.Status, line.Detail, note)
	case accel == "kvm" && (emulated || line.Status != "OK"):
		t.Errorf("a KVM guest, and doctor says %s %q; want OK, not emulated", line.Status, line.Detail)
	}
	said := []string{"doctor"}
	if profileSummary != "" {
		if strings.Contains(profileSummary, note) != emulated {
			t.Errorf("doctor says %q, and profile's summary says %q: %v", line.Detail, note, !emulated)
		}
		said = append(said, "profile")
	}
	if ladderDir != "" {
		data, err := os.ReadFile(filepath.Join(ladderDir, "ladder.json"))
		if err != nil {
			t.Fatal(err)
		}
		var lad result.Ladder
		if err := json.Unmarshal(data, &lad); err != nil {
			t.Fatalf("ladder.json: %v", err)
		}
		if (lad.Env.Emulation == note) != emulated || (!emulated && lad.Env.Emulation != "") {
			t.Errorf("doctor says %q, and ladder.json's env emulation is %q", line.Detail, lad.Env.Emulation)
		}
		md, err := os.ReadFile(filepath.Join(ladderDir, "report.md"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(md), note) != emulated {
			t.Errorf("doctor says %q, and report.md says %q: %v", line.Detail, note, !emulated)
		}
		said = append(said, "ladder.json", "report.md")
	}
	if !emulated {
		cell(t, "not emulated")
		return
	}
	cell(t, "emulated CPU (QEMU TCG), said by %s", strings.Join(said, ", "))
}

// guestAccel is the pipelab.accel= of the kernel command line, which the
// matrix sets to tcg or kvm; "" elsewhere.
func guestAccel() string {
	b, _ := os.ReadFile("/proc/cmdline")
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, "pipelab.accel="); ok {
			return v
		}
	}
	return ""
}

// thpEnabled is the kernel's transparent huge page switch.
const thpEnabled = "/sys/kernel/mm/transparent_hugepage/enabled"

// TestLadderWithoutTHP turns transparent huge pages off, as a kernel
// booted with transparent_hugepage=never has them, and runs a ladder of a
// step that needs them and one that does not: the first is left out with
// its reason in ladder.json and report.md, the second runs, and the
// ladder exits 0. It changes the machine's setting (and puts it back), so
// it runs only in the matrix's throwaway guests.
func TestLadderWithoutTHP(t *testing.T) {
	if guestAccel() == "" {
		t.Skip("turns transparent huge pages off machine-wide: runs in make matrix's guests only")
	}
	old, err := os.ReadFile(thpEnabled)
	if err != nil {
		t.Skipf("this kernel has no transparent huge pages to turn off: %v", err)
	}
	mode := ""
	for _, w := range strings.Fields(string(old)) {
		if strings.HasPrefix(w, "[") {
			mode = strings.Trim(w, "[]")
		}
	}
	if err := os.WriteFile(thpEnabled, []byte("never"), 0); err != nil {
		t.Fatalf("turn transparent huge pages off: %v", err)
	}
	defer os.WriteFile(thpEnabled, []byte(mode), 0)
	dir := keepDir(t, "ladder-no-thp")
	stdout, stderr, code := run(t, t.TempDir(), "ladder", "--modes", "write,huge", "--bytes", transferSize(), "--repeat", "1", "--out", dir)
	if code != 0 {
		t.Fatalf("exit status %d, want 0 (huge left out, write run): %s", code, failure(stderr))
	}
	reason := "needs transparent huge pages, which are off: " + thpEnabled + " is never (echo madvise > " + thpEnabled + ")"
	var lad result.Ladder
	data, err := os.ReadFile(filepath.Join(dir, "ladder.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &lad); err != nil {
		t.Fatalf("ladder.json: %v", err)
	}
	if len(lad.Steps) != 1 || lad.Steps[0].Mode != "write" || len(lad.Skipped) != 1 || lad.Skipped[0].Mode != "huge" || lad.Skipped[0].Reason != reason {
		t.Fatalf("ladder.json: steps %d (%v), skipped %+v; want write run and huge left out: %s", len(lad.Steps), lad.Steps, lad.Skipped, reason)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "- `huge`: "+reason) || !strings.Contains(stdout, "left out: huge (report.md says why)") {
		t.Errorf("report.md or the summary does not say huge was left out and why:\n%s", stdout)
	}
	cell(t, "huge left out (THP never), write ran")
}

// TestWallWithoutTracefs takes tracefs away, as on a kernel or a machine
// without it (unmounted at /sys/kernel/tracing, and debugfs, whose
// tracing directory is tracefs too), and profiles in the wall view: the
// run works, splits wall time into on- and off-CPU time without
// wake-ups, and says why. It unmounts (and mounts back) machine-wide, so
// it runs only in the matrix's throwaway guests.
func TestWallWithoutTracefs(t *testing.T) {
	if guestAccel() == "" {
		t.Skip("unmounts tracefs machine-wide: runs in make matrix's guests only")
	}
	mounts := []struct{ dir, fs string }{
		{"/sys/kernel/tracing", "tracefs"},
		{"/sys/kernel/debug/tracing", "tracefs"},
		{"/sys/kernel/debug", "debugfs"},
	}
	for _, m := range mounts {
		if syscall.Unmount(m.dir, 0) == nil {
			defer syscall.Mount("nodev", m.dir, m.fs, 0, "")
		}
	}
	s, _, stdout, stderr := profileStep(t, "profile-wall-no-tracefs", "--view", "wall")
	for _, r := range s.Roles {
		if r.WallNanos <= 0 || r.OnCPUNanos <= 0 || r.Wake != nil {
			t.Errorf("%s: wall %d ns, on-CPU %d ns, wake-ups %+v; want the split, and no wake-ups recorded", r.Role, r.WallNanos, r.OnCPUNanos, r.Wake)
		}
	}
	said := ""
	for _, line := range strings.Split(stdout+stderr, "\n") {
		if strings.Contains(line, "tracefs is not mounted") || strings.Contains(line, "no tracefs") {
			said = strings.TrimSpace(line)
			break
		}
	}
	if said == "" {
		t.Errorf("nothing says tracefs is missing:\n%s\n%s", tail(stdout, 15), stderr)
	}
	cell(t, "wall view without tracefs: %s", said)
}
