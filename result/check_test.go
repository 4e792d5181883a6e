package result

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	testEnv  = `{"kernel":"6.18.44","cpu_model":"AMD EPYC","cpus":2,"thp":"madvise","pmu":"software only","perf_event_paranoid":2,"kptr_restrict":0,"pipe_max_size":1048576,"go_version":"go1.26","time":"2026-12-06T23:50:00Z"}`
	testStep = `{"version":2,"mode":"write","bytes":1048576,"repeat":2,"runs":[1.5,1.6],"median_gib_s":1.55,"min_gib_s":1.5,"max_gib_s":1.6}`
)

// TestDecodeLadderProblems: a ladder.json edited by hand or cut short is
// refused with one line that names the step and the field.
func TestDecodeLadderProblems(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"version":"2","env":` + testEnv + `,"steps":[` + testStep + `]}`, `"version" is a string, want a whole number`},
		{`{"version":2,"env":` + testEnv + `,"steps":[]}`, `"steps" is empty, and the ladder says it finished`},
		{`{"version":2,"env":` + testEnv + `}`, `no "steps"`},
		{`{"version":2,"steps":[` + testStep + `]}`, `no "env" (the machine the ladder ran on: kernel, CPUs, date)`},
		{`{"version":2,"env":null,"steps":[` + testStep + `]}`, `no "env" (the machine the ladder ran on: kernel, CPUs, date)`},
		{`{"version":2,"env":{"cpus":"two"},"steps":[` + testStep + `]}`, `"env.cpus" is a string, want a whole number`},
		{`{"version":2,"env":{"time":"yesterday"},"steps":[` + testStep + `]}`, `"env.time" is "yesterday", want a time such as "2026-12-06T23:50:00Z"`},
		{`{"version":2,"env":` + testEnv + `,"steps":[` + testStep + `,{"mode":"splice","median_gib_s":"fast"}]}`, `step 2 (splice): "median_gib_s" is a string, want a number`},
		{`{"version":2,"env":` + testEnv + `,"steps":[{"mode":"../x"}]}`, `step 1 (../x): "mode" "../x" holds a path separator`},
		{`{"version":2,"env":` + testEnv + `,"steps":[{"bytes":1}]}`, `step 1: no "mode"`},
		{`{"version":2,"env":` + testEnv + `,"steps":[{"mode":"write","runs":{}}]}`, `step 1 (write): "runs" is an object, want an array`},
		{`{"version":2,"env":` + testEnv + `,"status":"done","steps":[` + testStep + `]}`, `"status" is "done", want "running", "interrupted" or none`},
		{`{"version":2,"env":` + testEnv + `,"planned":["a.b"],"status":"running","steps":[]}`, `"planned" step "a.b" holds a dot, so its files a.b.* could pass for step a's`},
		{"{\"version\":2,\n\"env\":}", `not valid JSON: invalid character '}' looking for beginning of value (line 2)`},
		{`[]`, `is an array, want an object`},
	} {
		_, err := decodeLadder([]byte(tc.json))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s\n got %v\nwant %s", tc.json, err, tc.want)
		}
	}
}

// TestUnfinished: a ladder that did not run all it planned says what it
// lacks, in one line.
func TestUnfinished(t *testing.T) {
	step := func(mode string, runs, repeat int) Step {
		s := Step{Settings: Settings{Mode: mode, Repeat: repeat}}
		for range runs {
			s.Runs = append(s.Runs, 1)
		}
		return s
	}
	planned := []string{"write", "vmsplice", "splice"}
	for _, tc := range []struct {
		l    *Ladder
		want string
	}{
		{nil, ""},
		{&Ladder{Planned: planned, Steps: []Step{step("write", 2, 2), step("vmsplice", 2, 2), step("splice", 2, 2)}}, ""},
		{&Ladder{Steps: []Step{step("write", 2, 2)}}, ""}, // from before Planned
		{&Ladder{Planned: planned, Status: StatusInterrupted, Steps: []Step{step("write", 2, 2), step("vmsplice", 1, 2)}},
			"the ladder was interrupted (SIGINT or SIGTERM): splice has no results; vmsplice has 1 of 2 runs"},
		{&Ladder{Planned: planned, Status: StatusRunning},
			"the ladder did not finish (ladder.json still says running; pipelab was killed, or is still running): write, vmsplice and splice have no results"},
		{&Ladder{Planned: planned, Status: StatusFailed, Steps: []Step{step("write", 2, 2), step("vmsplice", 2, 2), step("splice", 2, 2)}},
			"the ladder failed part way"},
		{&Ladder{Planned: planned, Steps: []Step{step("write", 2, 2)}},
			"the ladder is missing steps it planned: vmsplice and splice have no results"},
	} {
		f := &Folder{Ladder: tc.l}
		if tc.l != nil {
			f.Steps = tc.l.Steps
		}
		if got := f.Unfinished(); got != tc.want {
			t.Errorf("%+v:\n got %q\nwant %q", tc.l, got, tc.want)
		}
	}
}

// TestClear: replacing a folder's results removes every result file and
// leaves the user's own; replacing one step removes its files and those
// made from all steps together.
func TestClear(t *testing.T) {
	results := []string{"ladder.json", "report.md", "throughput.svg", "write.json", "write.pb.gz", "write.writer.pb.gz",
		"write.reader.wall.pb.gz", "write.writer.wakers.pb.gz", "write.reader.folded", "write.writer.svg", "write.reader.offcpu.svg",
		"write-dd.writer.diff.svg", "dd.json", "dd.writer.pb.gz", "dd.reader.svg"}
	mine := []string{"notes.md", "notes.svg", "config.json", "write.txt", "plot.writer.png"}
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		for _, name := range append(slices.Clone(results), mine...) {
			content := "x"
			if strings.HasSuffix(name, ".json") && name != "config.json" {
				content = `{"mode":"` + strings.TrimSuffix(name, ".json") + `"}`
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	left := func(t *testing.T, dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	dir := setup(t)
	if held, ok := HasResults(dir); !ok {
		t.Fatalf("HasResults: got %q, false; want true", held)
	}
	if err := Clear(dir); err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(mine))
	if got := left(t, dir); !slices.Equal(got, want) {
		t.Errorf("after Clear: got %q, want %q", got, want)
	}
	if held, ok := HasResults(dir); ok {
		t.Errorf("HasResults after Clear: got %q, true", held)
	}
	dir = setup(t)
	if err := ClearStep(dir, "write"); err != nil {
		t.Fatal(err)
	}
	want = slices.Sorted(slices.Values(append([]string{"ladder.json", "dd.json", "dd.writer.pb.gz", "dd.reader.svg"}, mine...)))
	if got := left(t, dir); !slices.Equal(got, want) {
		t.Errorf("after ClearStep write: got %q, want %q", got, want)
	}
}

// TestWriteErrorNamesTheFile: a file that cannot be written is named as
// itself, never as the temporary file it goes to first.
func TestWriteErrorNamesTheFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	err := WriteFiles(dir, BytesOutput("write.writer.svg", []byte("<svg/>")))
	want := "write " + filepath.Join(dir, "write.writer.svg") + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestGiBsJSON: a throughput nobody measured is null in the JSON, not 0,
// and reads back as zero; a measured one keeps its digits.
func TestGiBsJSON(t *testing.T) {
	s := Step{Settings: Settings{Mode: "write"}, Runs: []float64{}}
	var b strings.Builder
	if err := WriteSteps(&b, []Step{s}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"runs":[],"median_gib_s":null,"min_gib_s":null,"max_gib_s":null`) {
		t.Errorf("step with no runs: got %s, want [] runs and null figures", b.String())
	}
	got, err := decodeStep([]byte(b.String()))
	if err != nil || got.MedianGiBs != 0 {
		t.Errorf("read back: %+v, %v; want a zero median", got, err)
	}
	s.Runs, s.MedianGiBs, s.MinGiBs, s.MaxGiBs = []float64{1.825}, 1.825, 1.825, 1.825
	b.Reset()
	WriteSteps(&b, []Step{s})
	if !strings.Contains(b.String(), `"runs":[1.825],"median_gib_s":1.825,"min_gib_s":1.825,"max_gib_s":1.825`) {
		t.Errorf("step with a run: got %s", b.String())
	}
}
