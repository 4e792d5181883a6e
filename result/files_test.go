package result_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/result"
)

func TestArtefactName(t *testing.T) {
	for _, tc := range []struct {
		a    result.Artefact
		want string
	}{
		{result.Artefact{Kind: result.KindStep}, "vmsplice.json"},
		{result.Artefact{Kind: result.KindProfile}, "vmsplice.pb.gz"},
		{result.Artefact{result.KindProfile, "writer"}, "vmsplice.writer.pb.gz"},
		{result.Artefact{result.KindWall, "reader"}, "vmsplice.reader.wall.pb.gz"},
		{result.Artefact{result.KindFolded, "writer"}, "vmsplice.writer.folded"},
	} {
		if got := tc.a.Name("vmsplice"); got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.a, got, tc.want)
		}
	}
}

// stepProfile is a valid profile of one role with n samples under one
// kernel frame.
func stepProfile(role string, n int64) *pprof.Profile {
	fn := &pprof.Function{ID: 1, Name: "anon_pipe_write"}
	loc := &pprof.Location{ID: 1, Line: []pprof.Line{{Function: fn}}}
	return &pprof.Profile{
		SampleType: []*pprof.ValueType{{Type: "samples", Unit: "count"}},
		Sample:     []*pprof.Sample{{Value: []int64{n}, Location: []*pprof.Location{loc}, Label: map[string][]string{"role": {role}}}},
		Location:   []*pprof.Location{loc},
		Function:   []*pprof.Function{fn},
	}
}

// TestSaveStep saves a profiled step and reads it back the way `pipelab
// report` does: every file under its name, nothing else in the folder.
func TestSaveStep(t *testing.T) {
	dir := t.TempDir()
	step := &result.Step{Settings: result.Settings{Mode: "write"}, Runs: []float64{1}, View: "wall", Roles: []result.RoleSummary{
		{Role: "writer", Profile: "write.writer.pb.gz", WallProfile: "write.writer.wall.pb.gz"},
		{Role: "reader", Profile: "write.reader.pb.gz"},
	}}
	both := stepProfile("writer", 3)
	err := result.SaveStep(dir, step, map[result.Artefact]*pprof.Profile{
		{Kind: result.KindProfile}:     both,
		{result.KindProfile, "writer"}: stepProfile("writer", 3),
		{result.KindProfile, "reader"}: stepProfile("reader", 5),
		{result.KindWall, "writer"}:    stepProfile("writer", 7),
	}, result.BytesOutput(result.FoldedFile("write", "writer"), []byte("anon_pipe_write 3\n")))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(fixture.ListDir(t, dir), " ")
	want := "write.json write.pb.gz write.reader.pb.gz write.writer.folded write.writer.pb.gz write.writer.wall.pb.gz"
	if got != want {
		t.Errorf("folder holds %s, want %s", got, want)
	}
	f, err := result.OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Steps) != 1 || f.Steps[0].Mode != "write" {
		t.Fatalf("read back steps %+v, want one write step", f.Steps)
	}
	p, err := result.OpenProfile(filepath.Join(dir, "write.writer.wall.pb.gz"))
	if err != nil || p.Sample[0].Value[0] != 7 {
		t.Errorf("wall profile read back: %v", err)
	}
	folded, err := os.ReadFile(filepath.Join(dir, "write.writer.folded"))
	if err != nil || string(folded) != "anon_pipe_write 3\n" {
		t.Errorf("writer folded stacks: got %q (%v), want \"anon_pipe_write 3\\n\"", folded, err)
	}
}

// TestWriteFiles writes a profile the way SaveStep does and checks the
// bytes a user gets: gzip, parseable, mode 0644, nothing else left.
func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	if err := result.WriteFiles(dir, result.ProfileOutput("write.writer.pb.gz", stepProfile("writer", 7))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "write.writer.pb.gz")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Errorf("file does not start with the gzip magic: % x", b[:2])
	}
	q, err := pprof.Parse(bytes.NewReader(b))
	if err != nil || q.Sample[0].Value[0] != 7 {
		t.Fatalf("parse back: %v", err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (err %v), want -rw-r--r--", st.Mode(), err)
	}
	if got := strings.Join(fixture.ListDir(t, dir), " "); got != "write.writer.pb.gz" {
		t.Errorf("folder holds %s, want write.writer.pb.gz", got)
	}
}

// TestWriteFilesErrors: a failure anywhere leaves neither a temporary file
// nor any of the outputs, also those that were fine.
func TestWriteFilesErrors(t *testing.T) {
	good := result.ProfileOutput("good.pb.gz", stepProfile("writer", 1))
	bad := stepProfile("writer", 1)
	bad.Sample[0].Value = []int64{1, 2}
	t.Run("invalid profile", func(t *testing.T) {
		dir := t.TempDir()
		err := result.WriteFiles(dir, good, result.ProfileOutput("bad.pb.gz", bad))
		if err == nil || !strings.Contains(err.Error(), "write "+filepath.Join(dir, "bad.pb.gz")+": invalid profile") {
			t.Errorf("got %v, want write DIR/bad.pb.gz: invalid profile: ...", err)
		}
		if got := fixture.ListDir(t, dir); len(got) != 0 {
			t.Errorf("folder holds %v, want nothing", got)
		}
	})
	t.Run("missing folder", func(t *testing.T) {
		err := result.WriteFiles(filepath.Join(t.TempDir(), "no", "such"), good)
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("got %v, want ErrNotExist", err)
		}
	})
	t.Run("directory in the way", func(t *testing.T) {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, "taken.pb.gz"), 0o755)
		os.WriteFile(filepath.Join(dir, "taken.pb.gz", "f"), nil, 0o644)
		if err := result.WriteFiles(dir, result.ProfileOutput("taken.pb.gz", stepProfile("writer", 1))); err == nil {
			t.Error("rename over a non-empty directory: got nil error")
		}
		if got := strings.Join(fixture.ListDir(t, dir), " "); got != "taken.pb.gz" {
			t.Errorf("folder holds %s, want only taken.pb.gz", got)
		}
	})
}
