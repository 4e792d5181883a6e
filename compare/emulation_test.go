package compare

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/result"
)

// TestSaysEmulated: compare marks every emulated folder, in the text and
// Markdown folder lines and in the JSON env, and tells an emulated folder
// from one that is not.
func TestSaysEmulated(t *testing.T) {
	base, other := t.TempDir(), t.TempDir()
	for dir, src := range map[string]string{base: compareFolder(t, "base"), other: compareFolder(t, "old")} {
		es, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			fixture.CopyFile(t, filepath.Join(src, e.Name()), filepath.Join(dir, e.Name()))
		}
	}
	fixture.EditEnv(t, base, func(e *result.Env) { e.Arch = "amd64" }) // checked, not emulated
	fixture.Emulate(t, other)
	l, err := Folders([]string{base, other}, attribute.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var text, md, js bytes.Buffer
	if err := WriteText(&text, l); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, l, ""); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, l); err != nil {
		t.Fatal(err)
	}
	note := result.EmulationNote("QEMU TCG")
	lines := 0
	for _, line := range strings.Split(text.String(), "\n") {
		switch {
		case strings.HasPrefix(line, "  "+filepath.Clean(other)+": "):
			lines++
			if !strings.HasPrefix(line, "  "+filepath.Clean(other)+": "+note+"; Linux 5.15.0-91-generic arm64, ") {
				t.Errorf("emulated folder's line %q does not say so first", line)
			}
		case strings.HasPrefix(line, "  "+filepath.Clean(base)+": "):
			lines++
			if strings.Contains(line, "emulated") {
				t.Errorf("folder measured on a real CPU said emulated: %q", line)
			}
		}
	}
	if lines != 2 {
		t.Errorf("%d folder lines, want 2:\n%s", lines, text.String())
	}
	if row := "| `" + filepath.Clean(other) + "` | " + note + "; "; !strings.Contains(md.String(), row) {
		t.Errorf("Markdown lacks the emulated folder's row %q", row)
	}
	var got struct {
		Folders []struct {
			Env result.Env `json:"env"`
		} `json:"folders"`
		EnvDiffs []FieldDiff `json:"env_diffs"`
	}
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Folders) != 2 || got.Folders[0].Env.Emulation != "" || got.Folders[1].Env.Emulation != note {
		t.Errorf("JSON env emulation: got %+v, want only the second folder's", got.Folders)
	}
	found := false
	for _, d := range got.EnvDiffs {
		found = found || (d.Field == "emulation" && d.Values[0] == "none" && d.Values[1] == note)
	}
	if !found {
		t.Errorf("env diffs %+v lack the emulation", got.EnvDiffs)
	}
}
