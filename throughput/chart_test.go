package throughput

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/internal/fixture"
)

func TestThroughputSVG(t *testing.T) {
	rows := Rows(fixture.Steps(t))
	var buf bytes.Buffer
	if err := WriteChart(&buf, rows, ChartOptions{Subtitle: "Linux 6.18.44-fc-v769 · AMD EPYC · 2 CPUs", Post: true}); err != nil {
		t.Fatal(err)
	}
	fixture.Golden(t, "throughput.svg", buf.Bytes())
	els := fixture.ParseSVG(t, buf.Bytes())
	var bars, posts int
	texts := map[string]bool{}
	for _, e := range els {
		switch {
		case e.Name == "rect" && e.Class == "bar":
			bars++
		case e.Name == "line" && e.Class == "post":
			posts++
		case e.Name == "text":
			texts[strings.TrimSpace(e.Text)] = true
		}
	}
	if bars != len(rows) {
		t.Errorf("got %d bars, want one per step (%d)", bars, len(rows))
	}
	if posts != 5 {
		t.Errorf("got %d post markers, want 5", posts)
	}
	for _, want := range []string{"Pipe throughput per step", "write", "vmsplice", "splice", "huge", "busy", "1.82", "6.03 (×3.30)", "62.5", "throughput (GiB/s, median of the runs)"} {
		if !texts[want] {
			t.Errorf("no text %q in the chart", want)
		}
	}
}

func TestThroughputSVGEscapes(t *testing.T) {
	var buf bytes.Buffer
	rows := []Row{{Mode: `a<b&"c"`, Median: 1, Min: 1, Max: 1}}
	if err := WriteChart(&buf, rows, ChartOptions{Title: "x & y"}); err != nil {
		t.Fatal(err)
	}
	fixture.ParseSVG(t, buf.Bytes())
}
