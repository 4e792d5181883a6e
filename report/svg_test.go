package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// svgElement is the part of an SVG element the test looks at.
type svgElement struct {
	Name  string
	Class string
	ID    string
	Text  string
}

// parseSVG decodes data as XML and returns its elements in order.
func parseSVG(t *testing.T, data []byte) []svgElement {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	var out []svgElement
	var cur *svgElement
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := svgElement{Name: tok.Name.Local}
			for _, a := range tok.Attr {
				switch a.Name.Local {
				case "class":
					e.Class = a.Value
				case "id":
					e.ID = a.Value
				}
			}
			out = append(out, e)
			cur = &out[len(out)-1]
		case xml.CharData:
			if cur != nil {
				cur.Text += string(tok)
			}
		case xml.EndElement:
			cur = nil
		}
	}
	if len(out) == 0 || out[0].Name != "svg" {
		t.Fatalf("root element is not <svg>")
	}
	return out
}

func TestThroughputSVG(t *testing.T) {
	rows := Throughput(ladderSteps(t))
	var buf bytes.Buffer
	if err := writeThroughputSVG(&buf, rows, chartOptions{Subtitle: "Linux 6.18.44-fc-v769 · AMD EPYC · 2 CPUs", Post: true}); err != nil {
		t.Fatal(err)
	}
	golden(t, "throughput.svg", buf.Bytes())
	els := parseSVG(t, buf.Bytes())
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
	rows := []ThroughputRow{{Mode: `a<b&"c"`, Median: 1, Min: 1, Max: 1}}
	if err := writeThroughputSVG(&buf, rows, chartOptions{Title: "x & y"}); err != nil {
		t.Fatal(err)
	}
	parseSVG(t, buf.Bytes())
}

func TestNiceScale(t *testing.T) {
	tests := []struct{ max, step, top float64 }{
		{62.5, 20, 80}, {11.18, 5, 15}, {0.9, 0.2, 1}, {0, 1, 1},
	}
	for _, tt := range tests {
		step, top := niceScale(tt.max)
		if step != tt.step || top != tt.top {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", tt.max, step, top, tt.step, tt.top)
		}
	}
}
