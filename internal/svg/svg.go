package svg

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strings"

	"github.com/pipelab/pipelab/internal/table"
)

// chart geometry, in SVG user units.
const (
	Width, Height       = 760, 440
	PlotLeft, PlotRight = 70, 740
	PlotTop, PlotBottom = 80, 370
)

// NiceScale picks a tick step of 1, 2 or 5 × 10^k giving about five ticks
// and the axis top, a multiple of it above max.
func NiceScale(max float64) (step, top float64) {
	if max <= 0 {
		return 1, 1
	}
	raw := max / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	return step, math.Ceil(max*1.08/step) * step
}

// ThroughputAxis draws the y axis of a throughput chart: grid lines and
// ticks every step up to yMax, the axes, and the GiB/s label.
func ThroughputAxis(b *bytes.Buffer, step, yMax float64, y func(float64) float64) {
	for v := 0.0; v <= yMax+step/2; v += step {
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#dddddd"/>`+"\n", PlotLeft, y(v), PlotRight, y(v))
		Text(b, PlotLeft-8, y(v)+4, "end", 12, "normal", table.Float(v, decimals(step)))
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", PlotLeft, PlotTop, PlotLeft, PlotBottom)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", PlotLeft, PlotBottom, PlotRight, PlotBottom)
	fmt.Fprintf(b, `<text x="20" y="%d" text-anchor="middle" font-size="13" transform="rotate(-90 20 %d)">throughput (GiB/s, median of the runs)</text>`+"\n", (PlotTop+PlotBottom)/2, (PlotTop+PlotBottom)/2)
}

func decimals(step float64) int {
	if step >= 1 {
		return 0
	}
	return int(math.Ceil(-math.Log10(step)))
}

// Text writes one <text> element.
func Text(b *bytes.Buffer, x int, y float64, anchor string, size int, weight, s string) {
	fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="%s" font-size="%d" font-weight="%s">%s</text>`+"\n", x, y, anchor, size, weight, Escape(s))
}

// Escape escapes s for SVG text and attribute values.
func Escape(s string) string {
	var sb strings.Builder
	xml.EscapeText(&sb, []byte(s))
	return sb.String()
}
