package result_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"testing"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/result"
)

func gz(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestReadProfileNotAProfile(t *testing.T) {
	stored, err := os.ReadFile(fixture.Path("write.pb.gz"))
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
			_, err := result.ReadProfile(bytes.NewReader(c.data))
			fixture.BadInput(t, err, "", "read profile: not a pprof profile ("+c.why+remedy, result.ErrNotProfile)
			path := filepath.Join(t.TempDir(), "x.pb.gz")
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = result.OpenProfile(path)
			fixture.BadInput(t, err, "", "read profile "+path+": not a pprof profile ("+c.why+remedy, result.ErrNotProfile)
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
			fixture.CopyFile(t, src, filepath.Join(d, f))
		}
		return d
	}
	step := func(mode string) string {
		var b bytes.Buffer
		for _, s := range fixture.Steps(t) {
			if s.Mode == mode {
				result.WriteSteps(&b, []result.Step{s})
			}
		}
		path := filepath.Join(dir, mode+".step")
		os.WriteFile(path, b.Bytes(), 0o644)
		return path
	}
	mk("empty", nil)
	mk("two", map[string]string{"write.json": step("write"), "busy.json": step("busy")})
	mk("unprofiled", map[string]string{"write.json": step("write")})
	mk("one", map[string]string{"write.json": step("write"), "write.pb.gz": fixture.Path("write.pb.gz")})

	cases := []struct {
		in, want string
		is       error
	}{
		{"missing.pb.gz", "read profile DIR/missing.pb.gz: no such file or directory", os.ErrNotExist},
		{"empty", "read results DIR/empty: no pipelab results (no ladder.json and no MODE.json; write some with pipelab profile --out DIR/empty or pipelab ladder --out DIR/empty)", result.ErrNoResults},
		{"two", "read results DIR/two: holds 2 steps (busy, write; name one profile, e.g. DIR/two/busy.pb.gz)", nil},
		{"unprofiled", "read results DIR/unprofiled: no pipelab results (step write has no profile; make one with pipelab profile --mode write --out DIR/unprofiled)", result.ErrNoResults},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			_, err := result.OpenInput(filepath.Join(dir, c.in))
			is := c.is
			if is == nil {
				var fe *result.FileError
				if !errors.As(err, &fe) {
					t.Fatalf("error %v is not a *FileError", err)
				}
				is = fe.Err
			}
			fixture.BadInput(t, err, dir, c.want, is)
		})
	}
	if p, err := result.OpenInput(filepath.Join(dir, "one")); err != nil || len(p.Sample) == 0 {
		t.Errorf("one-step folder: got %v, want its profile", err)
	}
}

// (a gzip bomb) is refused without inflating it all.
func TestReadProfileBounded(t *testing.T) {
	defer func(n int) { *result.MaxProfileBytes = n }(*result.MaxProfileBytes)
	*result.MaxProfileBytes = 1 << 20
	bomb := gz(make([]byte, 4<<20))
	if len(bomb) > 1<<16 {
		t.Fatalf("bomb is %d bytes, want a small file", len(bomb))
	}
	_, err := result.ReadProfile(bytes.NewReader(bomb))
	fixture.BadInput(t, err, "", "read profile: not a pprof profile (larger than 1 MiB once decompressed; give a .pb.gz file written by pipelab profile or go tool pprof -proto)", result.ErrNotProfile)
	_, err = result.ReadProfile(bytes.NewReader(make([]byte, 2<<20)))
	fixture.BadInput(t, err, "", "read profile: not a pprof profile (larger than 1 MiB; give a .pb.gz file written by pipelab profile or go tool pprof -proto)", result.ErrNotProfile)
	stored, err := os.ReadFile(fixture.Path("write.pb.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := result.ReadProfile(bytes.NewReader(stored)); err != nil {
		t.Errorf("a real profile under the limit: %v", err)
	}
}
