package throughput

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/pipelab/pipelab/internal/svg"
	"github.com/pipelab/pipelab/internal/table"
	"github.com/pipelab/pipelab/result"
)

// ChartOptions shape the throughput chart.
type ChartOptions struct {
	// Title is the chart's title; empty means "Pipe throughput per step".
	Title string
	// Subtitle is a second line under the title, e.g. the kernel and CPU.
	Subtitle string
	// Post draws the post's figure for each mode that has one as a
	// dashed marker on the same scale.
	Post bool
	// Ceilings are drawn as lines across the plot, each labelled with its
	// name and figure (result.Ceilings of the steps charted).
	Ceilings []result.Ceiling
}

// ceilingColour colours a ceiling's line and label.
const ceilingColour = "#2e8b57"

// barFill and barEdge colour the throughput bars.
const barFill, barEdge = "#4878a8", "#2f5577"

// WriteChart writes a bar chart of the median GiB/s of each step:
// one bar per step with its value on top, min–max whiskers, the step
// names under the axis, a labelled y axis with grid lines, and optionally
// the post's figures as markers. The SVG stands alone (no scripts, no
// external styles).
func WriteChart(w io.Writer, rows []Row, opt ChartOptions) error {
	if opt.Title == "" {
		opt.Title = "Pipe throughput per step"
	}
	top := 0.0
	for _, r := range rows {
		top = math.Max(top, math.Max(r.Max, r.Median))
		if opt.Post {
			top = math.Max(top, r.Post)
		}
	}
	for _, c := range opt.Ceilings {
		top = math.Max(top, float64(c.MedianGiBs))
	}
	step, yMax := svg.NiceScale(top)
	y := func(v float64) float64 { return svg.PlotBottom - (svg.PlotBottom-svg.PlotTop)*v/yMax }
	g := layout(rows)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" role="img">`+"\n", svg.Width, g.height, svg.Width, g.height)
	fmt.Fprintf(&b, "<title>%s</title>\n", svg.Escape(opt.Title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", svg.Width, g.height)
	svg.Text(&b, svg.Width/2, 30, "middle", 18, "bold", opt.Title)
	if opt.Subtitle != "" {
		svg.Text(&b, svg.Width/2, 52, "middle", 12, "normal", opt.Subtitle)
	}
	svg.ThroughputAxis(&b, step, yMax, y)
	bars(&b, rows, opt.Post, y, g)
	ceilingLines(&b, opt.Ceilings, y)
	legend(&b, opt.Post, len(opt.Ceilings) > 0, g)
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// geometry is how the bars' labels fit: slot is each bar's width of the
// plot; wide slots have room for the speedup beside a bar's value; narrow
// ones set the step names aslant, under a plot made taller for them.
type geometry struct {
	slot         float64
	wide, narrow bool
	height       int
}

// layout fits the labels of rows under the plot.
func layout(rows []Row) geometry {
	g := geometry{height: svg.Height}
	if len(rows) == 0 {
		return g
	}
	g.slot = float64(svg.PlotRight-svg.PlotLeft) / float64(len(rows))
	g.wide, g.narrow = g.slot >= wideSlot, g.slot < narrowSlot
	if g.narrow {
		longest := 0
		for _, r := range rows {
			longest = max(longest, len(r.Mode))
		}
		g.height += int(float64(longest)*nameCharWidth*math.Sin(nameSlant*math.Pi/180)) - 10
	}
	return g
}

// narrowSlot is the width of a bar's slot, in pixels, under which the
// step names go aslant by nameSlant degrees; nameCharWidth is about the
// width of one of their characters.
const (
	narrowSlot    = 60
	nameSlant     = 40
	nameCharWidth = 6.2
)

func bars(b *bytes.Buffer, rows []Row, post bool, y func(float64) float64, g geometry) {
	if len(rows) == 0 {
		return
	}
	slot := g.slot
	bw := math.Min(slot*0.6, 90)
	for i, r := range rows {
		cx := svg.PlotLeft + slot*(float64(i)+0.5)
		fmt.Fprintf(b, `<rect class="bar" id="bar-%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="%s"><title>%s: %s GiB/s median (min %s, max %s, %d runs)</title></rect>`+"\n",
			svg.Escape(r.Mode), cx-bw/2, y(r.Median), bw, svg.PlotBottom-y(r.Median), barFill, barEdge, svg.Escape(r.Mode), table.GiBs(r.Median), table.GiBs(r.Min), table.GiBs(r.Max), r.N)
		if r.Max > r.Min {
			fmt.Fprintf(b, `<line class="whisker" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", cx, y(r.Min), cx, y(r.Max))
			for _, v := range []float64{r.Min, r.Max} {
				fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", cx-6, y(v), cx+6, y(v))
			}
		}
		label := table.GiBs(r.Median)
		if r.VsPrev != 0 && g.wide {
			label += " (" + table.Speedup(r.VsPrev) + ")"
		}
		labelY := math.Min(y(r.Median), y(r.Max)) - 8
		if post && r.Post > 0 {
			fmt.Fprintf(b, `<line class="post" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#c0392b" stroke-width="2" stroke-dasharray="5,3"><title>the post: %s GiB/s</title></line>`+"\n", cx-bw/2-4, y(r.Post), cx+bw/2+4, y(r.Post), table.Float(r.Post, 1))
			if !g.narrow { // no room beside a narrow bar: the marker's title says it
				fmt.Fprintf(b, `<text class="post" x="%.1f" y="%.1f" font-size="11" fill="#c0392b">%s</text>`+"\n", cx+bw/2+6, y(r.Post)+4, table.Float(r.Post, 1))
			}
			if py := y(r.Post); py > labelY-14 && py < labelY+8 {
				labelY = py - 8 // keep the value clear of the marker
			}
		}
		if g.narrow {
			svg.Text(b, int(cx), labelY, "middle", 9, "bold", label)
			fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="end" font-size="11" transform="rotate(-%d %.1f %d)">%s</text>`+"\n",
				cx+4, svg.PlotBottom+14, nameSlant, cx+4, svg.PlotBottom+14, svg.Escape(r.Mode))
			continue
		}
		svg.Text(b, int(cx), labelY, "middle", 12, "bold", label)
		for i, line := range stepLines(r.Mode) {
			svg.Text(b, int(cx), float64(svg.PlotBottom+18+14*i), "middle", 13, "normal", line)
		}
	}
}

// wideSlot is the least width of a bar's slot, in pixels, with room for
// the speedup beside the value on top of the bar; narrower, the bar shows
// its value alone.
const wideSlot = 100

// stepLines splits a step's name under its bar: a mode, then each knob
// it adds (ring-busy, +streaming) on a line of its own.
func stepLines(mode string) []string {
	parts := strings.Split(mode, "+")
	for i := 1; i < len(parts); i++ {
		parts[i] = "+" + parts[i]
	}
	return parts
}

// ceilingLines draws each ceiling as a line across the plot, labelled
// at its right end: above the line, or below it when the line runs close
// under a higher ceiling's, whose label takes the room above.
func ceilingLines(b *bytes.Buffer, cs []result.Ceiling, y func(float64) float64) {
	for _, c := range cs {
		cy := y(float64(c.MedianGiBs))
		labelY := cy - 4
		for _, other := range cs {
			if oy := y(float64(other.MedianGiBs)); oy < cy && cy-oy < 14 {
				labelY = cy + 13
			}
		}
		label := fmt.Sprintf("%s ceiling %s", c.Name, table.GiBs(float64(c.MedianGiBs)))
		fmt.Fprintf(b, `<line class="ceiling" id="ceiling-%s" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="2,2"><title>%s: %s GiB/s (step %s)</title></line>`+"\n",
			svg.Escape(c.Name), svg.PlotLeft, cy, svg.PlotRight, cy, ceilingColour, svg.Escape(c.Name), table.GiBs(float64(c.MedianGiBs)), svg.Escape(c.Step))
		// A white halo keeps the label legible where it crosses a bar.
		fmt.Fprintf(b, `<text class="ceiling" x="%d" y="%.1f" font-size="11" text-anchor="end" fill="%s" stroke="white" stroke-width="3" paint-order="stroke">%s</text>`+"\n", svg.PlotRight, labelY, ceilingColour, svg.Escape(label))
	}
}

func legend(b *bytes.Buffer, post, ceilings bool, g geometry) {
	bars := "bars: median GiB/s (speedup over the previous step); whiskers: min–max of the runs"
	if !g.wide {
		bars = "bars: median GiB/s; whiskers: min–max of the runs"
	}
	svg.Text(b, svg.Width/2, float64(g.height-30), "middle", 11, "normal", bars)
	var second []string
	if post {
		second = append(second, "red dashes: the post's figure (Linux 5.17, bare metal)")
	}
	if ceilings {
		second = append(second, "green dots: the ceilings measured beside the steps")
	}
	if len(second) > 0 {
		svg.Text(b, svg.Width/2, float64(g.height-14), "middle", 11, "normal", strings.Join(second, "; "))
	}
}
