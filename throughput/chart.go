package throughput

import (
	"bytes"
	"fmt"
	"io"
	"math"

	"github.com/pipelab/pipelab/internal/svg"
	"github.com/pipelab/pipelab/internal/table"
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
}

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
	step, yMax := svg.NiceScale(top)
	y := func(v float64) float64 { return svg.PlotBottom - (svg.PlotBottom-svg.PlotTop)*v/yMax }
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" role="img">`+"\n", svg.Width, svg.Height, svg.Width, svg.Height)
	fmt.Fprintf(&b, "<title>%s</title>\n", svg.Escape(opt.Title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", svg.Width, svg.Height)
	svg.Text(&b, svg.Width/2, 30, "middle", 18, "bold", opt.Title)
	if opt.Subtitle != "" {
		svg.Text(&b, svg.Width/2, 52, "middle", 12, "normal", opt.Subtitle)
	}
	svg.ThroughputAxis(&b, step, yMax, y)
	bars(&b, rows, opt.Post, y)
	legend(&b, opt.Post)
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

func bars(b *bytes.Buffer, rows []Row, post bool, y func(float64) float64) {
	if len(rows) == 0 {
		return
	}
	slot := float64(svg.PlotRight-svg.PlotLeft) / float64(len(rows))
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
		if r.VsPrev != 0 {
			label += " (" + table.Speedup(r.VsPrev) + ")"
		}
		labelY := math.Min(y(r.Median), y(r.Max)) - 8
		if post && r.Post > 0 {
			fmt.Fprintf(b, `<line class="post" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#c0392b" stroke-width="2" stroke-dasharray="5,3"><title>the post: %s GiB/s</title></line>`+"\n", cx-bw/2-4, y(r.Post), cx+bw/2+4, y(r.Post), table.Float(r.Post, 1))
			fmt.Fprintf(b, `<text class="post" x="%.1f" y="%.1f" font-size="11" fill="#c0392b">%s</text>`+"\n", cx+bw/2+6, y(r.Post)+4, table.Float(r.Post, 1))
			if py := y(r.Post); py > labelY-14 && py < labelY+8 {
				labelY = py - 8 // keep the value clear of the marker
			}
		}
		svg.Text(b, int(cx), labelY, "middle", 12, "bold", label)
		svg.Text(b, int(cx), svg.PlotBottom+18, "middle", 13, "normal", r.Mode)
	}
}

func legend(b *bytes.Buffer, post bool) {
	svg.Text(b, svg.Width/2, svg.Height-30, "middle", 11, "normal", "bars: median GiB/s (speedup over the previous step); whiskers: min–max of the runs")
	if post {
		svg.Text(b, svg.Width/2, svg.Height-14, "middle", 11, "normal", "red dashes: the post's figure (Linux 5.17, bare metal)")
	}
}
