package result_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/result"
)

// TestOpenFolderVersions reads ladder.json and MODE.json of every version
// this pipelab knows, and refuses a newer one with the version found and
// the versions it reads.
func TestOpenFolderVersions(t *testing.T) {
	step := `{"mode":"write","bytes":1024,"runs":[1.5],"median_gib_s":1.5,"min_gib_s":1.5,"max_gib_s":1.5%s}`
	tests := []struct {
		name, file, content, wantErr string
	}{
		{"ladder v1", "ladder.json", `{"env":{"kernel":"5.15.0"},"steps":[` + fmt.Sprintf(step, "") + `]}`, ""},
		{"ladder v2", "ladder.json", `{"version":2,"env":{"kernel":"6.18.0"},"steps":[` + fmt.Sprintf(step, `,"version":2`) + `]}`, ""},
		{"ladder v3", "ladder.json", `{"version":3,"env":{},"steps":[]}`, "read results DIR/ladder.json: unknown format version 3 (this pipelab reads versions 1 to 2; read it with a newer pipelab)"},
		{"step v1", "write.json", fmt.Sprintf(step, ""), ""},
		{"step v9", "write.json", fmt.Sprintf(step, `,"version":9`), "read results DIR/write.json: unknown format version 9 (this pipelab reads versions 1 to 2; read it with a newer pipelab)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := result.OpenFolder(dir)
			if tt.wantErr == "" {
				if err != nil || len(f.Steps) != 1 || f.Steps[0].Mode != "write" {
					t.Fatalf("got %+v, %v; want the write step", f, err)
				}
				return
			}
			var fe *result.FileError
			if got := fmt.Sprint(err); strings.ReplaceAll(got, dir, "DIR") != tt.wantErr || !errors.Is(err, result.ErrVersion) || !errors.As(err, &fe) {
				t.Errorf("got error %q, want %q wrapping ErrVersion in a *FileError", got, tt.wantErr)
			}
		})
	}
}
