package compare

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/result"
)

// oldNames are the symbols as kernels before 6.0 spell them (see aliases):
// the old-kernel fixture folder renames the 6.18 capture with them.
var oldNames = strings.NewReplacer(
	"anon_pipe_write_[k]", "pipe_write_[k]",
	"anon_pipe_read_[k]", "pipe_read_[k]",
	"iov_iter_get_pages2_[k]", "iov_iter_get_pages_[k]",
	"alloc_pages_noprof_[k]", "__alloc_pages_[k]",
	"__alloc_frozen_pages_noprof_[k]", "get_page_from_freelist_[k]",
)

// compareFixtures are the folders under testdata/compare and, for each,
// the steps whose profile MODE.pb.gz is built from testdata/capture:
// base (a version 2 ladder from 6.18), old (a version-less ladder whose
// kernel spells symbols the old way, with one more step) and other (a
// folder of one step with another pipe size, on other CPUs, unprofiled).
var compareFixtures = map[string][]string{
	"base": {"write", "vmsplice"},
	"old":  {"write", "vmsplice", "splice"},
}

// compareFolder returns testdata/compare/NAME, rebuilding its profiles
// from the capture first under -update. The old folder's stacks are
// renamed with oldNames and those through pipe_write or
// iov_iter_get_pages weigh double, so that its shares differ from base's.
func compareFolder(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join("testdata", "compare", name)
	if !*fixture.Update {
		return dir
	}
	for _, mode := range compareFixtures[name] {
		folded := fixture.Capture(t, mode)
		if name == "old" {
			folded = oldFolded(t, folded)
		}
		var buf bytes.Buffer
		if err := fixture.Build(t, mode, folded).Write(&buf); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, mode+".pb.gz"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func oldFolded(t *testing.T, folded []byte) []byte {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(folded)), "\n") {
		line = oldNames.Replace(line)
		if strings.Contains(line, ";pipe_write_[k]") || strings.Contains(line, ";iov_iter_get_pages_[k]") {
			stack, count, _ := strings.Cut(line, " ")
			n, err := strconv.Atoi(count)
			if err != nil {
				t.Fatalf("capture: bad line %q", line)
			}
			line = stack + " " + strconv.Itoa(2*n)
		}
		b.WriteString(line + "\n")
	}
	return []byte(b.String())
}

func compareLadders(t *testing.T, names ...string) *Ladders {
	t.Helper()
	return compareLaddersTop(t, 0, names...)
}

// compareLaddersTop compares the fixture folders keeping top symbols per
// role (0: the default).
func compareLaddersTop(t *testing.T, top int, names ...string) *Ladders {
	t.Helper()
	var dirs []string
	for _, n := range names {
		dirs = append(dirs, compareFolder(t, n))
	}
	l, err := Folders(dirs, attribute.Options{Top: top})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestFoldersGolden compares the fixture folders and checks the
// text, Markdown and JSON against golden files.
func TestFoldersGolden(t *testing.T) {
	for _, names := range [][]string{{"base", "old"}, {"base", "old", "other"}} {
		l := compareLadders(t, names...)
		for _, w := range []struct {
			ext   string
			write func(*bytes.Buffer) error
		}{
			{"txt", func(b *bytes.Buffer) error { return WriteText(b, l) }},
			{"md", func(b *bytes.Buffer) error { return WriteMarkdown(b, l, result.CompareChartFile) }},
			{"json", func(b *bytes.Buffer) error { return WriteJSON(b, l) }},
		} {
			var b bytes.Buffer
			if err := w.write(&b); err != nil {
				t.Fatal(err)
			}
			fixture.Golden(t, "compare."+strings.Join(names, "-")+"."+w.ext, b.Bytes())
		}
	}
}

// TestFoldersAliases finds pipe_write of the old kernel and
// anon_pipe_write of 6.18 in one row, and its share changed.
func TestFoldersAliases(t *testing.T) {
	l := compareLaddersTop(t, 1000, "base", "old")
	for _, post := range []string{"pipe_write", "iov_iter_get_pages"} {
		mode := map[string]string{"pipe_write": "write", "iov_iter_get_pages": "vmsplice"}[post]
		s := findSeries(l, mode, "writer", post)
		if s == nil {
			t.Errorf("%s writer: no row for %s; want one matching both kernels' names", mode, post)
			continue
		}
		want := map[string][]string{"pipe_write": {"anon_pipe_write", "pipe_write"}, "iov_iter_get_pages": {"iov_iter_get_pages2", "iov_iter_get_pages"}}[post]
		if s.Names[0] != want[0] || s.Names[1] != want[1] || s.Cum[0] <= 0 || s.Cum[1] <= 0 {
			t.Errorf("%s writer %s: got names %q, shares %v; want %q and a share in both", mode, post, s.Names, s.Cum, want)
		}
	}
	if s := findSeries(l, "write", "writer", "pipe_write"); s != nil && s.Cum[1] <= s.Cum[0] {
		t.Errorf("write writer pipe_write: got shares %v, want old's larger (its stacks weigh double)", s.Cum)
	}
	if got, want := l.Machine, "same machine, kernel 6.18.44-fc-v769 vs 5.15.0-91-generic, go version go1.26.8 vs go1.22.2"; got != want {
		t.Errorf("machine: got %q, want %q", got, want)
	}
}

func findSeries(l *Ladders, mode, role, post string) *SymbolSeries {
	for _, st := range l.Steps {
		for _, rs := range st.Roles {
			for i, s := range rs.Symbols {
				if st.Mode == mode && rs.Role == role && s.Post == post {
					return &rs.Symbols[i]
				}
			}
		}
	}
	return nil
}

// TestFoldersMissingAndSettings: a step only some folders have is
// kept and shown missing in the others; a step measured with another
// pipe size, and timed on unprofiled transfers where the others timed
// profiled ones, is flagged; a folder on other CPUs says so in the header.
func TestFoldersMissingAndSettings(t *testing.T) {
	l := compareLadders(t, "base", "old", "other")
	var modes []string
	for _, st := range l.Steps {
		modes = append(modes, st.Mode)
	}
	if got, want := strings.Join(modes, ","), "write,vmsplice,splice"; got != want {
		t.Fatalf("steps: got %s, want %s", got, want)
	}
	splice := l.Steps[2]
	if !splice.Cells[0].Missing || splice.Cells[1].Missing || !splice.Cells[2].Missing || splice.Cells[1].Throughput.Median != 3.075 {
		t.Errorf("splice: got cells %+v; want missing in base and other, 3.075 GiB/s in old", splice.Cells)
	}
	write := l.Steps[0]
	if len(write.Settings) != 2 || write.Settings[0].Field != "pipe_size" || vs(write.Settings[0].Values) != "64 KiB vs 64 KiB vs 1 MiB" ||
		write.Settings[1].Field != "throughput_from" || vs(write.Settings[1].Values) != "profiled vs profiled vs unprofiled" {
		t.Errorf("write: got settings diffs %+v, want pipe_size 64 KiB vs 64 KiB vs 1 MiB and throughput_from profiled vs profiled vs unprofiled", write.Settings)
	}
	if write.Cells[1].SettingsDiffer || !write.Cells[2].SettingsDiffer {
		t.Errorf("write: got settings_differ %t for old and %t for other, want false (as base) and true (another pipe size)", write.Cells[1].SettingsDiffer, write.Cells[2].SettingsDiffer)
	}
	if len(l.Steps[1].Settings) != 0 {
		t.Errorf("vmsplice: got settings diffs %+v, want none", l.Steps[1].Settings)
	}
	var text bytes.Buffer
	if err := WriteText(&text, l); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  write: pipe_size 64 KiB vs 64 KiB vs 1 MiB, throughput_from profiled vs profiled vs unprofiled\n", settingsMark + "\n", "missing", "write: testdata/compare/other has no profile of write\n"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	two := compareLadders(t, "base", "other")
	if got, want := two.Machine, "same kernel, different CPUs: AMD EPYC ×2 vs Intel(R) Xeon(R) Gold 6338 ×8, idle driver haltpoll vs intel_idle"; got != want {
		t.Errorf("machine: got %q, want %q", got, want)
	}
}

// TestFoldersBadInput: a folder named twice, a folder that is not
// a result, a newer format version.
func TestFoldersBadInput(t *testing.T) {
	base := compareFolder(t, "base")
	empty, newer := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(newer, "ladder.json"), []byte(`{"version":3,"steps":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dirs []string
		want error
		msg  string
	}{
		{[]string{base, base + "/"}, errSameFolder, "compare " + base + " " + base + "/: the same folder named twice (name two different result folders)"},
		{[]string{base, empty}, result.ErrNoResults, "read results " + empty + ": no pipelab results"},
		{[]string{base, newer}, result.ErrVersion, "read results " + filepath.Join(newer, "ladder.json") + ": unknown format version 3 (this pipelab reads versions 1 to 2; read it with a newer pipelab)"},
	}
	for _, tt := range tests {
		_, err := Folders(tt.dirs, attribute.Options{})
		var fe *result.FileError
		if !errors.Is(err, tt.want) || !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), tt.msg) {
			t.Errorf("Folders(%q): got %v, want a *FileError starting %q", tt.dirs, err, tt.msg)
		}
	}
}

// TestLaddersSVG parses the grouped chart: one bar per folder and step
// present, one "missing" per step absent, a legend entry per folder.
func TestLaddersSVG(t *testing.T) {
	l := compareLadders(t, "base", "old", "other")
	var b bytes.Buffer
	if err := writeLaddersSVG(&b, l); err != nil {
		t.Fatal(err)
	}
	bars, missing, texts := 0, 0, map[string]bool{}
	dec := xml.NewDecoder(&b)
	var inText bool
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			for _, a := range tk.Attr {
				if a.Name.Local == "class" && a.Value == "bar" {
					bars++
				}
				if a.Name.Local == "class" && a.Value == "missing" {
					missing++
				}
			}
			inText = tk.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts[string(tk)] = true
			}
		case xml.EndElement:
			inText = false
		}
	}
	if bars != 6 || missing != 3 {
		t.Errorf("got %d bars and %d missing marks, want 6 (3 write, 2 vmsplice, 1 splice) and 3", bars, missing)
	}
	for _, want := range []string{"testdata/compare/base", "testdata/compare/other", "write" + settingsMark, "vmsplice"} {
		if !texts[want] {
			t.Errorf("chart has no text %q", want)
		}
	}
}

// TestFoldersJSONRoundTrip: the JSON output reads back into the
// same comparison.
func TestFoldersJSONRoundTrip(t *testing.T) {
	l := compareLadders(t, "base", "old")
	var b bytes.Buffer
	if err := WriteJSON(&b, l); err != nil {
		t.Fatal(err)
	}
	var back Ladders
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Steps) != len(l.Steps) || back.Machine != l.Machine || len(back.Folders) != 2 {
		t.Errorf("round trip: got %d steps, machine %q, %d folders", len(back.Steps), back.Machine, len(back.Folders))
	}
}

// TestSettingDiffs: a setting that is empty in one folder (no external
// command) and set in another differs; equal settings do not.
func TestSettingDiffs(t *testing.T) {
	a := &result.Step{Settings: result.Settings{Mode: "fizzbuzz", PipeSize: 65536}}
	b := &result.Step{Settings: result.Settings{Mode: "fizzbuzz", PipeSize: 65536, WriterCmd: "./fizzbuzz"}}
	got := settingDiffs([]*result.Step{a, b, nil})
	if len(got) != 1 || got[0].Field != "writer_cmd" || vs(got[0].Values) != "none vs ./fizzbuzz vs ?" {
		t.Errorf("got %+v, want writer_cmd none vs ./fizzbuzz vs ?", got)
	}
	if got := settingDiffs([]*result.Step{a, a}); len(got) != 0 {
		t.Errorf("equal settings: got %+v, want none", got)
	}
}

// TestWriteFiles writes compare.md, the chart and one differential
// flame graph per step and role profiled in both folders, linked from
// compare.md; the step only one folder has gets none.
func TestWriteFiles(t *testing.T) {
	l := compareLadders(t, "base", "old", "other")
	dir := t.TempDir()
	files, err := WriteFiles(dir, l)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	want := "write.writer.vs-1.diff.svg write.reader.vs-1.diff.svg vmsplice.writer.vs-1.diff.svg vmsplice.reader.vs-1.diff.svg compare.svg compare.md"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("files: got %s, want %s", got, want)
	}
	md, err := os.ReadFile(filepath.Join(dir, result.CompareFile))
	if err != nil {
		t.Fatal(err)
	}
	if link := "- [writer, `testdata/compare/old` against `testdata/compare/base`](write.writer.vs-1.diff.svg)\n"; !strings.Contains(string(md), link) {
		t.Errorf("compare.md lacks %q:\n%s", link, md)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "write.writer.vs-1.diff.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), "anon_pipe_write") {
		t.Errorf("write.writer.vs-1.diff.svg does not show anon_pipe_write")
	}
	if err := xml.Unmarshal(svg, new(struct{})); err != nil {
		t.Errorf("write.writer.vs-1.diff.svg is not XML: %v", err)
	}
}
