package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
)

// chartOptions shape the throughput chart.
type chartOptions struct {
	// Title is the chart's title; empty means "Pipe throughput per step".
	Title string
	// Subtitle is a second line under the title, e.g. the kernel and CPU.
	Subtitle string
	// Post draws the post's figure for each mode that has one as a
	// dashed marker on the same scale.
	Post bool
}

// chart geometry, in SVG user units.
const (
	chartW, chartH   = 760, 440
	plotL, plotR     = 70, 740
	plotT, plotB     = 80, 370
	barFill, barEdge = "#4878a8", "#2f5577"
)

// writeThroughputSVG writes a bar chart of the median GiB/s of each step:
// one bar per step with its value on top, min–max whiskers, the step
// names under the axis, a labelled y axis with grid lines, and optionally
// the post's figures as markers. The SVG stands alone (no scripts, no
// external styles).
func writeThroughputSVG(w io.Writer, rows []ThroughputRow, opt chartOptions) error {
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
	step, yMax := niceScale(top)
	y := func(v float64) float64 { return plotB - (plotB-plotT)*v/yMax }
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" role="img">`+"\n", chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(opt.Title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartW, chartH)
	text(&b, chartW/2, 30, "middle", 18, "bold", opt.Title)
	if opt.Subtitle != "" {
		text(&b, chartW/2, 52, "middle", 12, "normal", opt.Subtitle)
	}
	yAxis(&b, step, yMax, y)
	bars(&b, rows, opt.Post, y)
	legend(&b, opt.Post)
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// niceScale picks a tick step of 1, 2 or 5 × 10^k giving about five ticks
// and the axis top, a multiple of it above max.
func niceScale(max float64) (step, top float64) {
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

func yAxis(b *bytes.Buffer, step, yMax float64, y func(float64) float64) {
	for v := 0.0; v <= yMax+step/2; v += step {
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#dddddd"/>`+"\n", plotL, y(v), plotR, y(v))
		text(b, plotL-8, y(v)+4, "end", 12, "normal", trimFloat(v, decimals(step)))
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", plotL, plotT, plotL, plotB)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", plotL, plotB, plotR, plotB)
	fmt.Fprintf(b, `<text x="20" y="%d" text-anchor="middle" font-size="13" transform="rotate(-90 20 %d)">throughput (GiB/s, median of the runs)</text>`+"\n", (plotT+plotB)/2, (plotT+plotB)/2)
}

func decimals(step float64) int {
	if step >= 1 {
		return 0
	}
	return int(math.Ceil(-math.Log10(step)))
}

func bars(b *bytes.Buffer, rows []ThroughputRow, post bool, y func(float64) float64) {
	if len(rows) == 0 {
		return
	}
	slot := float64(plotR-plotL) / float64(len(rows))
	bw := math.Min(slot*0.6, 90)
	for i, r := range rows {
		cx := plotL + slot*(float64(i)+0.5)
		fmt.Fprintf(b, `<rect class="bar" id="bar-%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="%s"><title>%s: %s GiB/s median (min %s, max %s, %d runs)</title></rect>`+"\n",
			esc(r.Mode), cx-bw/2, y(r.Median), bw, plotB-y(r.Median), barFill, barEdge, esc(r.Mode), gibs(r.Median), gibs(r.Min), gibs(r.Max), r.N)
		if r.Max > r.Min {
			fmt.Fprintf(b, `<line class="whisker" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", cx, y(r.Min), cx, y(r.Max))
			for _, v := range []float64{r.Min, r.Max} {
				fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", cx-6, y(v), cx+6, y(v))
			}
		}
		label := gibs(r.Median)
		if r.VsPrev != 0 {
			label += " (" + speedup(r.VsPrev) + ")"
		}
		labelY := math.Min(y(r.Median), y(r.Max)) - 8
		if post && r.Post > 0 {
			fmt.Fprintf(b, `<line class="post" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#c0392b" stroke-width="2" stroke-dasharray="5,3"><title>the post: %s GiB/s</title></line>`+"\n", cx-bw/2-4, y(r.Post), cx+bw/2+4, y(r.Post), trimFloat(r.Post, 1))
			fmt.Fprintf(b, `<text class="post" x="%.1f" y="%.1f" font-size="11" fill="#c0392b">%s</text>`+"\n", cx+bw/2+6, y(r.Post)+4, trimFloat(r.Post, 1))
			if py := y(r.Post); py > labelY-14 && py < labelY+8 {
				labelY = py - 8 // keep the value clear of the marker
			}
		}
		text(b, int(cx), labelY, "middle", 12, "bold", label)
		text(b, int(cx), plotB+18, "middle", 13, "normal", r.Mode)
	}
}

func legend(b *bytes.Buffer, post bool) {
	text(b, chartW/2, chartH-30, "middle", 11, "normal", "bars: median GiB/s (speedup over the previous step); whiskers: min–max of the runs")
	if post {
		text(b, chartW/2, chartH-14, "middle", 11, "normal", "red dashes: the post's figure (Linux 5.17, bare metal)")
	}
}

// text writes one <text> element.
func text(b *bytes.Buffer, x int, y float64, anchor string, size int, weight, s string) {
	fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="%s" font-size="%d" font-weight="%s">%s</text>`+"\n", x, y, anchor, size, weight, esc(s))
}

func esc(s string) string {
	var sb strings.Builder
	xml.EscapeText(&sb, []byte(s))
	return sb.String()
}
