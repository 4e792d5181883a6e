package report

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/result"
)

func TestWriteGolden(t *testing.T) {
	dir := fixture.LadderFolder(t)
	md := writeReport(t, dir)
	fixture.Golden(t, "report.md", md)

	got := strings.Join(fixture.ListDir(t, dir), " ")
	want := "busy.pb.gz busy.reader.svg busy.writer.svg huge-busy.reader.diff.svg huge-busy.writer.diff.svg huge.pb.gz huge.reader.svg huge.writer.svg ladder.json report.md " +
		"splice-huge.reader.diff.svg splice-huge.writer.diff.svg splice.pb.gz splice.reader.svg splice.writer.svg throughput.svg " +
		"vmsplice-splice.reader.diff.svg vmsplice-splice.writer.diff.svg vmsplice.pb.gz vmsplice.reader.svg vmsplice.writer.svg " +
		"write-vmsplice.reader.diff.svg write-vmsplice.writer.diff.svg write.pb.gz write.reader.svg write.writer.svg"
	if got != want {
		t.Errorf("folder holds %s, want %s (no temporary files)", got, want)
	}
	checkEmbeddedImages(t, dir, md)
	svg, err := os.ReadFile(filepath.Join(dir, result.ChartFile))
	if err != nil {
		t.Fatal(err)
	}
	bars := 0
	for _, e := range fixture.ParseSVG(t, svg) {
		if e.Name == "rect" && e.Class == "bar" {
			bars++
		}
	}
	if bars != len(fixture.Modes) {
		t.Errorf("chart has %d bars, want %d", bars, len(fixture.Modes))
	}

	text := string(md)
	for i, m := range fixture.Modes {
		if !strings.Contains(text, "\n### "+m+" ") {
			t.Errorf("no step section starting %q", "### "+m+" ")
		}
		if i > 0 && !strings.Contains(text, "\n#### What changed from "+fixture.Modes[i-1]+" to "+m+"\n") {
			t.Errorf("no transition %s → %s", fixture.Modes[i-1], m)
		}
	}
	for _, want := range []string{
		"| kernel | 6.18.44-fc-v769 |",
		"| perf events | software only (no PMU: cpu-clock sampling, no hardware counters) |",
		"| fs.pipe-max-size | 1 MiB |",
		"| `vmsplice` | 6.03 ± 13% ¹ | 5.27 | 6.58 | 5 | +230.34% (p=0.008) | ×3.30 | ×3.30 | 12.70 |",
		"![Median GiB/s per step, min–max whiskers, the post's figures as markers](throughput.svg)",
		// The post's name and the symbol that matched on 6.18.
		"| `pipe_write` | `anon_pipe_write` | 3.24% | 94.46% |",
		"| `iov_iter_get_pages` | `iov_iter_get_pages2` | 0.00% | 13.71% |",
		// write → vmsplice: the writer stops allocating pages and starts
		// waiting for space in the pipe.
		"| `alloc_pages_noprof` | `__alloc_pages` | 25.81% | 0.00% | -25.81pp | 0.27% | 0.00% |",
		"| `pipe_wait_writable` | `pipe_wait_writable` | 0.00% | 53.87% | +53.87pp | 0.00% | 2.42% |",
		"## What these samples can and cannot show",
		"`pvm_irq_enable` under `_raw_spin_unlock_irqrestore`",
		"the kernel dropped none of the 4600 samples",
		"`pipelab ladder --view wall`",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

// TestWriteReplacesOldReport checks that a rebuild replaces what an
// earlier one wrote, in place.
func TestWriteReplacesOldReport(t *testing.T) {
	dir := fixture.LadderFolder(t)
	for _, name := range []string{result.ReportFile, result.ChartFile} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Write(dir, attribute.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{result.ReportFile, result.ChartFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(data) == "old" {
			t.Errorf("%s was not rewritten (err %v)", name, err)
		}
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v (err %v), want -rw-r--r--", name, st.Mode(), err)
		}
	}
}

// TestWriteErrorsLeaveNothing checks that bad input is a
// *FileError with one clear line, and that it leaves the folder as it
// was: no report.md, no chart, no temporary file.
func TestWriteErrorsLeaveNothing(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string // with DIR for the folder
		is    error  // wrapped, when not nil
	}{{
		name:  "empty folder",
		setup: func(t *testing.T, dir string) {},
		want:  "read results DIR: no pipelab results (no ladder.json and no MODE.json; write some with pipelab profile --out DIR or pipelab ladder --out DIR)",
		is:    result.ErrNoResults,
	}, {
		name: "ladder.json is not JSON",
		setup: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "ladder.json"), []byte("{\"env\":"), 0o644)
		},
		want: "read results DIR/ladder.json: not valid JSON: unexpected end of JSON input (line 1)",
	}, {
		name: "a step profile is not a profile",
		setup: func(t *testing.T, dir string) {
			fixture.CopyFile(t, fixture.Path("ladder.json"), filepath.Join(dir, "ladder.json"))
			fixture.CopyFile(t, fixture.Path("write.pb.gz"), filepath.Join(dir, "write.pb.gz"))
			os.WriteFile(filepath.Join(dir, "splice.pb.gz"), []byte("GiB/s 10.2\n"), 0o644)
		},
		want: "read profile DIR/splice.pb.gz: not a pprof profile (parsing profile: unrecognized profile format; give a .pb.gz file written by pipelab profile or go tool pprof -proto)",
		is:   result.ErrNotProfile,
	}, {
		name: "role profiles of different sample types",
		setup: func(t *testing.T, dir string) {
			fixture.CopyFile(t, fixture.Path("ladder.json"), filepath.Join(dir, "ladder.json"))
			fixture.CopyFile(t, fixture.Path("write.pb.gz"), filepath.Join(dir, "write.writer.pb.gz"))
			p := fixture.Profile(t, "write")
			p.SampleType = p.SampleType[1:]
			for _, s := range p.Sample {
				s.Value = s.Value[1:]
			}
			fixture.WriteProfile(t, filepath.Join(dir, "write.reader.pb.gz"), p)
		},
		want: "merge profiles DIR/write.writer.pb.gz DIR/write.reader.pb.gz: different sample types (samples/count, cpu/nanoseconds vs cpu/nanoseconds; the roles of one step come from one pipelab profile run; rerun the step)",
		is:   result.ErrSampleTypes,
	}, {
		name: "a wall profile without off-CPU time",
		setup: func(t *testing.T, dir string) {
			fixture.CopyFile(t, fixture.Path("ladder.json"), filepath.Join(dir, "ladder.json"))
			fixture.CopyFile(t, fixture.Path("busy.pb.gz"), filepath.Join(dir, "busy.writer.wall.pb.gz"))
		},
		want: "read wall profile DIR/busy.writer.wall.pb.gz: different sample types (no sample type offcpu/nanoseconds; the profile has samples/count, cpu/nanoseconds; a wall profile comes from pipelab profile --view wall)",
		is:   result.ErrSampleTypes,
	}, {
		name: "a wall profile the results name is missing",
		setup: func(t *testing.T, dir string) {
			fixture.WriteWallFolder(t, dir)
			os.Remove(filepath.Join(dir, "write.reader.wall.pb.gz"))
		},
		want: "read wall profile DIR/write.reader.wall.pb.gz: file does not exist (the results name it as the reader's wall profile; rerun the step with --view wall)",
		is:   os.ErrNotExist,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.setup(t, dir)
			before := fixture.ListDir(t, dir)
			err := Write(dir, attribute.Options{})
			want := strings.ReplaceAll(c.want, "DIR", dir)
			if err == nil || err.Error() != want {
				t.Fatalf("got error %v\nwant %s", err, want)
			}
			var fe *result.FileError
			if !errors.As(err, &fe) || c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not a *FileError wrapping %v", err, c.is)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
			if got := fixture.ListDir(t, dir); strings.Join(got, " ") != strings.Join(before, " ") {
				t.Errorf("folder holds %v after the error, want %v", got, before)
			}
		})
	}
}

// TestWriteFailedRenameLeavesNoTemp makes the final rename fail
// (report.md is a folder) and checks no temporary file is left.
func TestWriteFailedRenameLeavesNoTemp(t *testing.T) {
	dir := fixture.LadderFolder(t)
	if err := os.MkdirAll(filepath.Join(dir, result.ReportFile, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := Write(dir, attribute.Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "write "+filepath.Join(dir, result.ReportFile)+": ") {
		t.Fatalf("got error %v, want one about writing report.md", err)
	}
	for _, name := range fixture.ListDir(t, dir) {
		if strings.HasSuffix(name, ".tmp") {
			t.Errorf("temporary file %s left behind", name)
		}
	}
}

// TestWriteWithoutLadderJSON builds the report from MODE.json files
// alone: no environment, steps sorted by mode.
func TestWriteWithoutLadderJSON(t *testing.T) {
	dir := t.TempDir()
	for _, s := range fixture.Steps(t)[:2] {
		var b bytes.Buffer
		if err := result.WriteSteps(&b, []result.Step{s}); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, s.Mode+".json"), b.Bytes(), 0o644)
	}
	fixture.CopyFile(t, fixture.Path("write.pb.gz"), filepath.Join(dir, "write.pb.gz"))
	md := writeReport(t, dir)
	reportHas(t, md,
		"Not recorded: the folder has no ladder.json",
		"### vmsplice — 6.03 GiB/s",
		"No kernel attribution for this step",
		"### write — 1.82 GiB/s",
		"No symbol diff: one of the two steps has no CPU profile with kernel frames.",
	)
}

// TestWriteUserOnlyProfile: a step whose profile has no kernel
// frames (kptr_restrict, say) is reported with a note, not refused.
func TestWriteUserOnlyProfile(t *testing.T) {
	dir := fixture.LadderFolder(t)
	fixture.WriteProfile(t, filepath.Join(dir, "busy.pb.gz"), fixture.UserOnly(fixture.Profile(t, "busy")))
	md := writeReport(t, dir)
	reportHas(t, md,
		"### busy — 9.20 GiB/s\n\n1 GiB per run × 5 runs, 256 KiB buffer, 128 KiB pipe, writer on CPU 0, reader on CPU 1, busy loop, huge pages.[^1]\n\nNo kernel attribution",
		"[^1]: busy: the profile has no kernel frames, so no kernel symbol is attributed (profile as root, or with kernel.perf_event_paranoid<=1 and kernel.kptr_restrict=0)\n",
	)
}

// TestSummarizeFailedSteps: interrupted and incomplete steps, and a
// warning they share, become footnotes naming the steps.
func TestSummarizeFailedSteps(t *testing.T) {
	steps := fixture.Steps(t)[:3]
	steps[0].Interrupted = true
	steps[1].Incomplete = true
	steps[1].Warnings = []string{"pipe size rounded up to 128KiB"}
	steps[2].Warnings = []string{"pipe size rounded up to 128KiB"}
	s, err := summarize(&result.Folder{Dir: t.TempDir(), Steps: steps}, attribute.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []note{
		{Steps: []string{"write"}, Text: "interrupted (SIGINT or SIGTERM); its figures cover the part that ran"},
		{Steps: []string{"vmsplice"}, Text: "incomplete: the writer or the reader failed part way; its figures cover the part that ran"},
		{Steps: []string{"vmsplice", "splice"}, Text: "pipe size rounded up to 128KiB"},
	}
	if len(s.Notes) != len(want) {
		t.Fatalf("got notes %+v, want %+v", s.Notes, want)
	}
	for i := range want {
		if strings.Join(s.Notes[i].Steps, ",") != strings.Join(want[i].Steps, ",") || s.Notes[i].Text != want[i].Text {
			t.Errorf("note %d: got %+v, want %+v", i+1, s.Notes[i], want[i])
		}
	}
	if got := s.Steps[2].Notes; len(got) != 1 || got[0] != 3 {
		t.Errorf("splice's notes: got %v, want [3]", got)
	}
	var md bytes.Buffer
	if err := writeSummaryMarkdown(&md, s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "\n[^3]: vmsplice, splice: pipe size rounded up to 128KiB\n") {
		t.Errorf("no footnote naming both steps in:\n%s", md.String())
	}
	if !strings.Contains(md.String(), "No kernel attribution for this step") || strings.Contains(md.String(), "this machine has no PMU") {
		t.Errorf("a folder without profiles or environment: want no attribution and no claim about the PMU")
	}
}

// TestSettingsBufOffset: report.md's settings line says where the buffer
// started when it was not on a page boundary.
func TestSettingsBufOffset(t *testing.T) {
	base := result.Step{Settings: result.Settings{Bytes: 1 << 30, BufSize: 256 << 10, PipeSize: 128 << 10, PinWriter: 0, PinReader: 1}, Runs: []float64{1}}
	for _, c := range []struct {
		offset int
		want   string
	}{
		{16, "1 GiB per run × 1 run, 256 KiB buffer at page offset 16, 128 KiB pipe, writer on CPU 0, reader on CPU 1"},
		{0, "1 GiB per run × 1 run, 256 KiB buffer, 128 KiB pipe, writer on CPU 0, reader on CPU 1"},
	} {
		s := base
		s.BufOffset = c.offset
		if got := settings(s); !strings.HasPrefix(got, c.want) {
			t.Errorf("offset %d: settings = %q, want it to start %q", c.offset, got, c.want)
		}
	}
}

// TestSettingsCommand: report.md's settings line names the command that
// took a side, and pipelab's strategy on the other.
func TestSettingsCommand(t *testing.T) {
	s := result.Step{Settings: result.Settings{Bytes: 1 << 30, PinWriter: 0, PinReader: 1, Strategy: "splice", WriterCmd: "dd if=/dev/zero bs=256k"},
		Runs: []float64{1}}
	want := "1 GiB per run × 1 run, writer `dd if=/dev/zero bs=256k` on CPU 0, reader pipelab's splice on CPU 1"
	if got := settings(s); !strings.HasPrefix(got, want) {
		t.Errorf("settings = %q, want it to start %q", got, want)
	}
}

// checkEmbeddedImages checks that every image report.md embeds is a
// relative link to an SVG in the folder that parses as XML, and that it
// embeds every flame graph the folder holds.
func checkEmbeddedImages(t *testing.T, dir string, md []byte) {
	t.Helper()
	linked := map[string]bool{}
	for _, m := range regexp.MustCompile(`!\[[^\]]*\]\(([^)]+)\)`).FindAllStringSubmatch(string(md), -1) {
		name := m[1]
		linked[name] = true
		if filepath.IsAbs(name) || strings.Contains(name, "/") {
			t.Errorf("report.md embeds %s: want a file name relative to the folder", name)
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("report.md embeds %s: %v", name, err)
			continue
		}
		fixture.ParseSVG(t, data)
	}
	for _, name := range fixture.ListDir(t, dir) {
		if strings.HasSuffix(name, ".svg") && !linked[name] {
			t.Errorf("report.md does not embed %s", name)
		}
	}
}

// writeReport runs Write on dir and returns the report.md it wrote.
func writeReport(t *testing.T, dir string) []byte {
	t.Helper()
	if err := Write(dir, attribute.Options{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, result.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// reportHas checks that md holds every one of wants.
func reportHas(t *testing.T, md []byte, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}
