package compare

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/result"
)

// ceilingFolder writes a ladder of a consuming step and the two
// ceilings, with the medians given, into a new folder.
func ceilingFolder(t *testing.T, kernel string, consume, copyGiBs, ringGiBs float64, withCeilings bool) string {
	t.Helper()
	step := func(mode, ceiling string, g float64) result.Step {
		return result.Step{Version: result.FormatVersion, Settings: result.Settings{Mode: mode, Ceiling: ceiling, Repeat: 1},
			Runs: []float64{g}, MedianGiBs: result.GiBs(g), MinGiBs: result.GiBs(g), MaxGiBs: result.GiBs(g)}
	}
	lad := result.Ladder{Version: result.FormatVersion, Env: result.Env{Kernel: kernel},
		Steps: []result.Step{step("write+consume", "", consume), step("copy", "copy", copyGiBs), step("ring-busy", "ring", ringGiBs)}}
	if withCeilings {
		lad.Ceilings = result.Ceilings(lad.Steps)
	}
	dir := t.TempDir()
	if err := result.SaveLadder(dir, &lad); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestFoldersCeilings: each folder's steps are set against that folder's
// own ceilings, read from ladder.json or, in a ladder that did not save
// them, worked out from its steps.
func TestFoldersCeilings(t *testing.T) {
	a := ceilingFolder(t, "6.1", 2, 80, 20, true)
	b := ceilingFolder(t, "6.18", 4, 40, 5, false)
	l, err := Folders([]string{a, b}, attribute.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []result.Ceiling{{Name: "copy", Step: "copy", MedianGiBs: 80}, {Name: "copy", Step: "copy", MedianGiBs: 40}} {
		if got := l.Folders[i].Ceilings; len(got) != 2 || got[0] != want {
			t.Errorf("folder %d: ceilings %+v, want %+v and the ring", i, got, want)
		}
	}
	c := l.Steps[0].Cells
	if c[0].Throughput.OfCopy != 2.0/80 || c[0].Throughput.OfRing != 0.1 || c[1].Throughput.OfCopy != 0.1 || c[1].Throughput.OfRing != 0.8 {
		t.Errorf("write+consume: shares %v/%v and %v/%v, want 0.025/0.1 and 0.1/0.8",
			c[0].Throughput.OfCopy, c[0].Throughput.OfRing, c[1].Throughput.OfCopy, c[1].Throughput.OfRing)
	}
	var txt, md bytes.Buffer
	if err := WriteText(&txt, l); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, l, ""); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"share of each folder's own ceilings", "2.5% / 10%", "10% / 80%", "copy 80.00 GiB/s (step copy), ring 20.00 GiB/s (step ring-busy)", "copy 40.00 GiB/s (step copy), ring 5.00 GiB/s (step ring-busy)"} {
		if !strings.Contains(txt.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, txt.String())
		}
	}
	if !strings.Contains(md.String(), "## Against each machine's ceilings") || !strings.Contains(md.String(), "| `write+consume` | 2.5% / 10% | 10% / 80% |") {
		t.Errorf("markdown lacks the ceilings table:\n%s", md.String())
	}
}
