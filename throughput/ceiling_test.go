package throughput

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/result"
)

// ceilingSteps are a consuming pipe step and the two ceilings, with
// medians that make the fractions exact.
func ceilingSteps() []result.Step {
	step := func(mode, ceiling string, runs ...float64) result.Step {
		s := result.Step{Settings: result.Settings{Mode: mode, Ceiling: ceiling}, Runs: runs}
		s.MedianGiBs, s.MinGiBs, s.MaxGiBs = result.GiBs(runs[len(runs)/2]), result.GiBs(runs[0]), result.GiBs(runs[len(runs)-1])
		return s
	}
	return []result.Step{
		step("write+consume", "", 1, 2, 3),
		step("copy", result.CeilingCopy, 79, 80, 81),
		step("ring-busy", result.CeilingRing, 4, 5, 6),
		step("ring-busy+streaming", result.CeilingRing, 19, 20, 21),
	}
}

// TestRowsCeilings: each row is set against the ceilings of its own
// steps; of two steps that measure one ceiling, the faster is it.
func TestRowsCeilings(t *testing.T) {
	rows := Rows(ceilingSteps())
	want := []struct{ ofCopy, ofRing float64 }{{2.0 / 80, 2.0 / 20}, {1, 4}, {5.0 / 80, 0.25}, {0.25, 1}}
	for i, r := range rows {
		if r.OfCopy != want[i].ofCopy || r.OfRing != want[i].ofRing {
			t.Errorf("%s: of copy %v, of ring %v; want %v, %v", r.Mode, r.OfCopy, r.OfRing, want[i].ofCopy, want[i].ofRing)
		}
	}
	if got := result.Ceilings(ceilingSteps()); len(got) != 2 || got[0] != (result.Ceiling{Name: "copy", Step: "copy", MedianGiBs: 80}) ||
		got[1] != (result.Ceiling{Name: "ring", Step: "ring-busy+streaming", MedianGiBs: 20}) {
		t.Errorf("ceilings %+v, want copy from copy at 80 and ring from ring-busy+streaming at 20", got)
	}
}

// TestTablesCeilings: the text and Markdown tables gain a column per
// ceiling and a line that says what each is; without ceiling steps they
// have neither (TestThroughputGolden).
func TestTablesCeilings(t *testing.T) {
	rows := Rows(ceilingSteps())
	var txt, md bytes.Buffer
	if err := WriteText(&txt, rows); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, rows); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, out string
		want      []string
	}{
		{"text", txt.String(), []string{"of copy  of ring", "2.5%      10%", "ceilings: copy is 80.00 GiB/s (step copy: one core's memory copy, the most a reader that must have the bytes can take); ring is 20.00 GiB/s (step ring-busy+streaming: the busy shared-memory ring, the best transport between two processes measured here)"}},
		{"markdown", md.String(), []string{"| of the copy ceiling | of the ring ceiling |", "| 2.5% | 10% |", "\nceilings: copy is 80.00 GiB/s"}},
	} {
		for _, w := range c.want {
			if !strings.Contains(c.out, w) {
				t.Errorf("%s table lacks %q:\n%s", c.name, w, c.out)
			}
		}
	}
}

// TestChartCeilings: the chart draws each ceiling as a labelled line
// at its figure, and its scale reaches the highest.
func TestChartCeilings(t *testing.T) {
	steps := ceilingSteps()
	var b bytes.Buffer
	if err := WriteChart(&b, Rows(steps[:1]), ChartOptions{Ceilings: result.Ceilings(steps)}); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	for _, w := range []string{`id="ceiling-copy"`, `id="ceiling-ring"`, ">copy ceiling 80.00<", ">ring ceiling 20.00<", "<title>ring: 20.00 GiB/s (step ring-busy+streaming)</title>", "green dots: the ceilings"} {
		if !strings.Contains(svg, w) {
			t.Errorf("chart lacks %q", w)
		}
	}
}

// TestChartNarrow: with many steps (the consume ladder's twenty) the
// names go aslant under a taller plot, each whole, and the bars show
// their values without the speedups there is no room for; with few, the
// knobs of a step's name go on lines of their own.
func TestChartNarrow(t *testing.T) {
	var steps []result.Step
	for i := 0; i < 20; i++ {
		steps = append(steps, ceilingSteps()[i%4])
		steps[i].Mode += strings.Repeat("x", i) // twenty names of their own
	}
	var b bytes.Buffer
	if err := WriteChart(&b, Rows(steps), ChartOptions{}); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	if n := strings.Count(svg, `transform="rotate(-40 `); n != 20 {
		t.Errorf("%d names aslant, want 20", n)
	}
	if !strings.Contains(svg, ">ring-busy+streamingxxx</text>") || strings.Contains(svg, "(×") {
		t.Errorf("want whole names aslant and no speedups:\n%s", svg)
	}
	var w, h int
	if _, err := fmt.Sscanf(svg, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d"`, &w, &h); err != nil || h <= 440 {
		t.Errorf("chart %dx%d (%v), want it taller than 440 for the names", w, h, err)
	}
	b.Reset()
	if err := WriteChart(&b, Rows(ceilingSteps()), ChartOptions{}); err != nil {
		t.Fatal(err)
	}
	if svg := b.String(); !strings.Contains(svg, ">ring-busy</text>") || !strings.Contains(svg, ">+streaming</text>") || !strings.Contains(svg, "(×") {
		t.Errorf("want ring-busy and +streaming on two lines, and speedups:\n%s", svg)
	}
}
