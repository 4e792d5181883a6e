package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/result"
)

// TestReportCeilings: a ladder that measured the ceilings sets every step
// against them in report.md's throughput table, says what each ceiling
// step measures, draws the ceilings on the chart, and makes no
// transition of the step from the pipe to a ceiling.
func TestReportCeilings(t *testing.T) {
	step := func(mode, transport, ceiling string, g float64) result.Step {
		return result.Step{Version: result.FormatVersion, Settings: result.Settings{Mode: mode, Transport: transport, Ceiling: ceiling, Repeat: 1, Bytes: 1 << 30},
			Runs: []float64{g}, MedianGiBs: result.GiBs(g), MinGiBs: result.GiBs(g), MaxGiBs: result.GiBs(g)}
	}
	lad := result.Ladder{Version: result.FormatVersion, Steps: []result.Step{
		step("busy", "pipe", "", 50), step("busy+consume", "pipe", "", 8), step("copy", "memory", "copy", 80), step("ring-busy", "ring", "ring", 20),
	}}
	lad.Ceilings = result.Ceilings(lad.Steps)
	dir := t.TempDir()
	if err := result.SaveLadder(dir, &lad); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, attribute.Options{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, result.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"| of the copy ceiling | of the ring ceiling |",
		"| `busy+consume` | 8.00 ± 0% ¹ |",
		"| 10% | 40% |",
		"ceilings: copy is 80.00 GiB/s (step copy: ",
		"**Ceiling**: one core's memory copy",
		"**Ceiling**: a shared-memory ring",
		"What changed from busy",
	} {
		if !strings.Contains(string(md), w) {
			t.Errorf("report.md lacks %q", w)
		}
	}
	if strings.Contains(string(md), "What changed from busy+consume") || strings.Contains(string(md), "What changed from copy") {
		t.Errorf("report.md has a transition from one transport to another:\n%s", md)
	}
	svg, err := os.ReadFile(filepath.Join(dir, result.ChartFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`id="ceiling-copy"`, `id="ceiling-ring"`} {
		if !strings.Contains(string(svg), w) {
			t.Errorf("%s lacks %s", result.ChartFile, w)
		}
	}
}
