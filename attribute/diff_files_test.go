package attribute

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/result"
)

// TestCompareNamesTheFile checks that `pipelab diff A B`'s bad inputs name
// the file at fault.
func TestCompareNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	fixture.CopyFile(t, fixture.Path("write.pb.gz"), path("write.pb.gz"))
	fixture.CopyFile(t, fixture.Path("busy.pb.gz"), path("busy.pb.gz"))
	os.WriteFile(path("notes.txt"), []byte("GiB/s 1.82\n"), 0o644)
	fixture.WriteProfile(t, path("user.pb.gz"), fixture.UserOnly(fixture.Profile(t, "busy")))
	heap := fixture.Profile(t, "busy")
	heap.SampleType = []*pprof.ValueType{{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"}}
	fixture.WriteProfile(t, path("heap.pb.gz"), heap)

	const kernelRemedy = "diff compares kernel symbols; profile as root, or with kernel.perf_event_paranoid<=1 and kernel.kptr_restrict=0)"
	cases := []struct {
		a, b, want string
		is         error
	}{
		{"notes.txt", "busy.pb.gz", "read profile DIR/notes.txt: not a pprof profile (parsing profile: unrecognized profile format; give a .pb.gz file written by pipelab profile or go tool pprof -proto)", result.ErrNotProfile},
		{"write.pb.gz", "notes.txt", "read profile DIR/notes.txt: not a pprof profile (parsing profile: unrecognized profile format; give a .pb.gz file written by pipelab profile or go tool pprof -proto)", result.ErrNotProfile},
		{"user.pb.gz", "busy.pb.gz", "diff DIR/user.pb.gz: no kernel frames (profile A has none and " + kernelRemedy, ErrNoKernelFrames},
		{"write.pb.gz", "user.pb.gz", "diff DIR/user.pb.gz: no kernel frames (profile B has none and " + kernelRemedy, ErrNoKernelFrames},
		{"write.pb.gz", "heap.pb.gz", "diff DIR/write.pb.gz DIR/heap.pb.gz: different sample types (samples/count, cpu/nanoseconds vs alloc_objects/count, alloc_space/bytes; compare profiles of the same kind)", result.ErrSampleTypes},
	}
	for _, c := range cases {
		t.Run(c.a+"-"+c.b, func(t *testing.T) {
			_, err := DiffFiles(path(c.a), path(c.b), Options{})
			fixture.BadInput(t, err, dir, c.want, c.is)
		})
	}
	_, err := DiffFiles(path("write.pb.gz"), path("busy.pb.gz"), Options{SampleType: "alloc_space/bytes"})
	fixture.BadInput(t, err, dir, "attribute DIR/write.pb.gz: different sample types (no sample type alloc_space/bytes; the profile has samples/count, cpu/nanoseconds)", result.ErrSampleTypes)

	c, err := DiffFiles(path("write.pb.gz"), path("busy.pb.gz"), Options{Top: 3})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Diff(fixture.Profile(t, "write"), fixture.Profile(t, "busy"), Options{Top: 3})
	if err != nil {
		t.Fatal(err)
	}
	var g, w bytes.Buffer
	WriteDiffJSON(&g, c.Roles)
	WriteDiffJSON(&w, want)
	if g.String() != w.String() || len(c.A.Sample) == 0 || len(c.B.Sample) == 0 {
		t.Errorf("Compare differs from Diff on the same files:\n%s\nvs\n%s", g.String(), w.String())
	}
}

// TestReadProfileBounded: a small gzip file that inflates past the limit
