package compare

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/pipelab/pipelab/internal/svg"
	"github.com/pipelab/pipelab/internal/table"
	"github.com/pipelab/pipelab/result"
)

// folderFills colour the folders' bars, the base first.
var folderFills = []string{"#4878a8", "#e08a3c", "#5a9e5a", "#b0504f", "#8a6bb0", "#7f7f7f"}

// writeLaddersSVG writes a grouped bar chart of a comparison: one group
// per step, one bar per folder (its median GiB/s, the value on top),
// min–max whiskers, "missing" where a folder lacks the step, and a legend
// naming the folders. The SVG stands alone.
func writeLaddersSVG(w io.Writer, l *Ladders) error {
	top := 0.0
	for _, st := range l.Steps {
		for _, c := range st.Cells {
			top = math.Max(top, math.Max(c.Throughput.Max, c.Throughput.Median))
		}
	}
	tick, yMax := svg.NiceScale(top)
	y := func(v float64) float64 { return svg.PlotBottom - (svg.PlotBottom-svg.PlotTop)*v/yMax }
	title := "Pipe throughput per step, " + strings.Join(folderNames(l), " vs ")
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" role="img">`+"\n", svg.Width, svg.Height, svg.Width, svg.Height)
	fmt.Fprintf(&b, "<title>%s</title>\n", svg.Escape(title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", svg.Width, svg.Height)
	svg.Text(&b, svg.Width/2, 30, "middle", 16, "bold", "Pipe throughput per step and folder")
	svg.Text(&b, svg.Width/2, 52, "middle", 12, "normal", l.Machine)
	svg.ThroughputAxis(&b, tick, yMax, y)
	groupedBars(&b, l, y)
	folderLegend(&b, l)
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

func folderNames(l *Ladders) []string {
	var out []string
	for _, f := range l.Folders {
		out = append(out, f.Name)
	}
	return out
}

func groupedBars(b *bytes.Buffer, l *Ladders, y func(float64) float64) {
	if len(l.Steps) == 0 {
		return
	}
	slot := float64(svg.PlotRight-svg.PlotLeft) / float64(len(l.Steps))
	bw := math.Min(slot*0.8/float64(len(l.Folders)), 60)
	for i, st := range l.Steps {
		left := svg.PlotLeft + slot*(float64(i)+0.5) - bw*float64(len(l.Folders))/2
		for j, c := range st.Cells {
			cx := left + bw*(float64(j)+0.5)
			if c.Missing {
				fmt.Fprintf(b, `<text class="missing" x="%.1f" y="%d" text-anchor="end" font-size="10" transform="rotate(-90 %.1f %d)">missing</text>`+"\n", cx+3, svg.PlotBottom-4, cx+3, svg.PlotBottom-4)
				continue
			}
			r := c.Throughput
			fill := folderFills[j%len(folderFills)]
			fmt.Fprintf(b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="black" stroke-width="0.5"><title>%s, %s: %s GiB/s median (min %s, max %s, %d runs)</title></rect>`+"\n",
				cx-bw/2, y(r.Median), bw, svg.PlotBottom-y(r.Median), fill, svg.Escape(st.Mode), svg.Escape(l.Folders[j].Name), table.GiBs(r.Median), table.GiBs(r.Min), table.GiBs(r.Max), r.N)
			if r.Max > r.Min {
				fmt.Fprintf(b, `<line class="whisker" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", cx, y(r.Min), cx, y(r.Max))
				for _, v := range []float64{r.Min, r.Max} {
					fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", cx-bw/4, y(v), cx+bw/4, y(v))
				}
			}
			svg.Text(b, int(cx), math.Min(y(r.Median), y(r.Max))-6, "middle", 10, "normal", table.GiBs(r.Median))
		}
		label := st.Mode
		if len(st.Settings) > 0 {
			label += settingsMark
		}
		svg.Text(b, int(svg.PlotLeft+slot*(float64(i)+0.5)), svg.PlotBottom+18, "middle", 13, "normal", label)
	}
}

// folderLegend names each folder's colour and explains the marks.
func folderLegend(b *bytes.Buffer, l *Ladders) {
	x := float64(svg.PlotLeft)
	for j, f := range l.Folders {
		fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="12" height="12" fill="%s" stroke="black" stroke-width="0.5"/>`+"\n", x, svg.Height-44, folderFills[j%len(folderFills)])
		svg.Text(b, int(x)+16, float64(svg.Height-34), "start", 11, "normal", f.Name)
		x += 16 + 7*float64(len([]rune(f.Name))) + 20
	}
	note := "bars: median GiB/s; whiskers: min–max of the runs"
	for _, st := range l.Steps {
		if len(st.Settings) > 0 {
			note += "; ≠ measured with different settings"
			break
		}
	}
	svg.Text(b, svg.Width/2, svg.Height-12, "middle", 11, "normal", note)
}

// WriteFiles writes into dir compare.md, the chart compare.svg it
// shows, and per step and role profiled in the base folder and in another
// one the differential flame graph of the other against the base, all
// atomically. It returns the names of the files written.
func WriteFiles(dir string, l *Ladders) ([]string, error) {
	flames, err := l.diffFlames()
	if err != nil {
		return nil, err
	}
	var md, svg bytes.Buffer
	if err := WriteMarkdown(&md, l, result.CompareChartFile); err != nil {
		return nil, fmt.Errorf("render %s: %w", result.CompareFile, err)
	}
	if err := writeLaddersSVG(&svg, l); err != nil {
		return nil, fmt.Errorf("render %s: %w", result.CompareChartFile, err)
	}
	outs := append(flames, result.BytesOutput(result.CompareChartFile, svg.Bytes()), result.BytesOutput(result.CompareFile, md.Bytes()))
	var names []string
	for _, o := range outs {
		names = append(names, filepath.Join(dir, o.Name))
	}
	return names, result.WriteFiles(dir, outs...)
}
