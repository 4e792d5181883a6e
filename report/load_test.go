package report

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pprof "github.com/google/pprof/profile"
)

// badInput checks that err is a one-line *FileError wrapping is, with
// exactly the message want (DIR stands for dir).
func badInput(t *testing.T, err error, dir, want string, is error) {
	t.Helper()
	want = strings.ReplaceAll(want, "DIR", dir)
	if err == nil || err.Error() != want {
		t.Fatalf("got error %v\nwant %s", err, want)
	}
	var fe *FileError
	if !errors.As(err, &fe) || !errors.Is(err, is) {
		t.Errorf("error %v is not a *FileError wrapping %v", err, is)
	}
	if strings.ContainsAny(err.Error(), "\n\r") {
		t.Errorf("error spans several lines: %q", err)
	}
}

func gz(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestReadProfileNotAProfile(t *testing.T) {
	stored, err := os.ReadFile(filepath.Join("testdata", "write.pb.gz"))
	if err != nil {
		t.Fatal(err)
	}
	const remedy = "; give a .pb.gz file written by pipelab profile or go tool pprof -proto)"
	cases := []struct {
		name string
		data []byte
		why  string
	}{
		{"text", []byte("GiB/s 1.82\n"), "parsing profile: unrecognized profile format"},
		{"empty", nil, "empty file"},
		{"blank", []byte(" \n\t\n"), "empty file"},
		{"gzip of text", gz([]byte("GiB/s 1.82\n")), "parsing profile: unrecognized profile format"},
		{"truncated .pb.gz", stored[:len(stored)/2], "decompressing profile: unexpected EOF"},
		{"JSON", []byte(`{"mode":"write"}`), "parsing profile: unrecognized profile format"},
		{"no sample types", gz(mustMarshal(t, &pprof.Profile{})), "no sample types"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := readProfile(bytes.NewReader(c.data))
			badInput(t, err, "", "read profile: not a pprof profile ("+c.why+remedy, errNotProfile)
			path := filepath.Join(t.TempDir(), "x.pb.gz")
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = openProfile(path)
			badInput(t, err, "", "read profile "+path+": not a pprof profile ("+c.why+remedy, errNotProfile)
		})
	}
}

func mustMarshal(t *testing.T, p *pprof.Profile) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := p.WriteUncompressed(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestOpenInputBadInput(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, files map[string]string) string {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for f, src := range files {
			copyFile(t, src, filepath.Join(d, f))
		}
		return d
	}
	step := func(mode string) string {
		var b bytes.Buffer
		for _, s := range ladderSteps(t) {
			if s.Mode == mode {
				WriteStepsJSON(&b, []Step{s})
			}
		}
		path := filepath.Join(dir, mode+".step")
		os.WriteFile(path, b.Bytes(), 0o644)
		return path
	}
	mk("empty", nil)
	mk("two", map[string]string{"write.json": step("write"), "busy.json": step("busy")})
	mk("unprofiled", map[string]string{"write.json": step("write")})
	mk("one", map[string]string{"write.json": step("write"), "write.pb.gz": filepath.Join("testdata", "write.pb.gz")})

	cases := []struct {
		in, want string
		is       error
	}{
		{"missing.pb.gz", "read profile DIR/missing.pb.gz: no such file or directory", os.ErrNotExist},
		{"empty", "read results DIR/empty: no pipelab results (no ladder.json and no MODE.json; write some with pipelab profile --out DIR/empty or pipelab ladder --out DIR/empty)", errNoResults},
		{"two", "read results DIR/two: holds 2 steps (busy, write; name one profile, e.g. DIR/two/busy.pb.gz)", nil},
		{"unprofiled", "read results DIR/unprofiled: no pipelab results (step write has no profile; make one with pipelab profile --mode write --out DIR/unprofiled)", errNoResults},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			_, err := OpenInput(filepath.Join(dir, c.in))
			is := c.is
			if is == nil {
				var fe *FileError
				if !errors.As(err, &fe) {
					t.Fatalf("error %v is not a *FileError", err)
				}
				is = fe.Err
			}
			badInput(t, err, dir, c.want, is)
		})
	}
	if p, err := OpenInput(filepath.Join(dir, "one")); err != nil || len(p.Sample) == 0 {
		t.Errorf("one-step folder: got %v, want its profile", err)
	}
}

// TestCompareNamesTheFile checks that `pipelab diff A B`'s bad inputs name
// the file at fault.
func TestCompareNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	copyFile(t, filepath.Join("testdata", "write.pb.gz"), path("write.pb.gz"))
	copyFile(t, filepath.Join("testdata", "busy.pb.gz"), path("busy.pb.gz"))
	os.WriteFile(path("notes.txt"), []byte("GiB/s 1.82\n"), 0o644)
	writeProfile(t, path("user.pb.gz"), userOnly(fixture(t, "busy")))
	heap := fixture(t, "busy")
	heap.SampleType = []*pprof.ValueType{{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"}}
	writeProfile(t, path("heap.pb.gz"), heap)

	const kernelRemedy = "diff compares kernel symbols; profile as root, or with kernel.perf_event_paranoid<=1 and kernel.kptr_restrict=0)"
	cases := []struct {
		a, b, want string
		is         error
	}{
		{"notes.txt", "busy.pb.gz", "read profile DIR/notes.txt: not a pprof profile (parsing profile: unrecognized profile format; give a .pb.gz file written by pipelab profile or go tool pprof -proto)", errNotProfile},
		{"write.pb.gz", "notes.txt", "read profile DIR/notes.txt: not a pprof profile (parsing profile: unrecognized profile format; give a .pb.gz file written by pipelab profile or go tool pprof -proto)", errNotProfile},
		{"user.pb.gz", "busy.pb.gz", "diff DIR/user.pb.gz: no kernel frames (profile A has none and " + kernelRemedy, errNoKernelFrames},
		{"write.pb.gz", "user.pb.gz", "diff DIR/user.pb.gz: no kernel frames (profile B has none and " + kernelRemedy, errNoKernelFrames},
		{"write.pb.gz", "heap.pb.gz", "diff DIR/write.pb.gz DIR/heap.pb.gz: different sample types (samples/count, cpu/nanoseconds vs alloc_objects/count, alloc_space/bytes; compare profiles of the same kind)", errSampleTypes},
	}
	for _, c := range cases {
		t.Run(c.a+"-"+c.b, func(t *testing.T) {
			_, err := Compare(path(c.a), path(c.b), Options{})
			badInput(t, err, dir, c.want, c.is)
		})
	}
	_, err := Compare(path("write.pb.gz"), path("busy.pb.gz"), Options{SampleType: "alloc_space/bytes"})
	badInput(t, err, dir, "attribute DIR/write.pb.gz: different sample types (no sample type alloc_space/bytes; the profile has samples/count, cpu/nanoseconds)", errSampleTypes)

	c, err := Compare(path("write.pb.gz"), path("busy.pb.gz"), Options{Top: 3})
	if err != nil {
		t.Fatal(err)
	}
	want, err := diff(fixture(t, "write"), fixture(t, "busy"), Options{Top: 3})
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
// (a gzip bomb) is refused without inflating it all.
func TestReadProfileBounded(t *testing.T) {
	defer func(n int) { maxProfileBytes = n }(maxProfileBytes)
	maxProfileBytes = 1 << 20
	bomb := gz(make([]byte, 4<<20))
	if len(bomb) > 1<<16 {
		t.Fatalf("bomb is %d bytes, want a small file", len(bomb))
	}
	_, err := readProfile(bytes.NewReader(bomb))
	badInput(t, err, "", "read profile: not a pprof profile (larger than 1 MiB once decompressed; give a .pb.gz file written by pipelab profile or go tool pprof -proto)", errNotProfile)
	_, err = readProfile(bytes.NewReader(make([]byte, 2<<20)))
	badInput(t, err, "", "read profile: not a pprof profile (larger than 1 MiB; give a .pb.gz file written by pipelab profile or go tool pprof -proto)", errNotProfile)
	stored, err := os.ReadFile(filepath.Join("testdata", "write.pb.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readProfile(bytes.NewReader(stored)); err != nil {
		t.Errorf("a real profile under the limit: %v", err)
	}
}
