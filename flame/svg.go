package flame

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/pipelab/pipelab/internal/svg"
	"github.com/pipelab/pipelab/internal/table"
)

// flame graph geometry, in SVG user units (pixels at 100%).
const (
	flameW        = 1200
	flamePad      = 10
	flameFrameH   = 16
	flameFont     = 12
	flameTop      = 64 // title, subtitle and controls
	flameBottom   = 36 // the details line and the legend
	flameMinWidth = 0.1
	// flameCharW is the width of an average character of the font, as a
	// fraction of its size (flamegraph.pl's 0.59 for Verdana).
	flameCharW = 0.59
	// maxGone bounds the list of functions only in A under a diff graph.
	maxGone = 40
)

// WriteSVG renders g as a standalone SVG, flamegraph.pl style: the
// root at the bottom, each box sized by its value and carrying a <title>
// tooltip (function, value, share; in a differential graph both shares
// and the change in percentage points), kernel frames orange and user
// frames green (a differential graph colours by change instead), names
// elided to fit. An inline script adds click-to-zoom and a search that
// highlights matching frames and shows their total share; without
// scripts the SVG is the same picture. Boxes narrower than 0.1 px are
// left out. The same graph always gives the same bytes.
func WriteSVG(w io.Writer, g *Graph) error {
	gone := g.Gone
	if len(gone) > maxGone {
		gone = gone[:maxGone]
	}
	graphH := (g.MaxDepth + 1) * flameFrameH
	goneH := 0
	if g.Diff && len(g.Gone) > 0 {
		goneH = 28 + (len(gone)+1)*flameFrameH
	}
	height := flameTop + graphH + goneH + flameBottom
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8" standalone="no"?>`+"\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%d" height="%d" viewBox="0 0 %d %d" data-pad="%d" data-font="%d">`+"\n", flameW, height, flameW, height, flamePad, flameFont)
	fmt.Fprintf(&b, "<title>%s</title>\n", svg.Escape(g.Title))
	b.WriteString("<style>text{font-family:Verdana,sans-serif;font-size:12px;fill:black}g.f text,g.gone text{pointer-events:none}g.f:hover rect{stroke:black;stroke-width:0.5}.ctl{cursor:pointer;fill:#3060a0}#unzoom{opacity:0}</style>\n")
	fmt.Fprintf(&b, "<script type=\"text/ecmascript\"><![CDATA[%s]]></script>\n", flameScript)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#f8f8f8"/>`+"\n", flameW, height)
	fmt.Fprintf(&b, `<text x="%d" y="24" text-anchor="middle" style="font-size:17px">%s</text>`+"\n", flameW/2, svg.Escape(g.Title))
	fmt.Fprintf(&b, `<text x="%d" y="44" text-anchor="middle">%s</text>`+"\n", flameW/2, svg.Escape(g.Subtitle))
	fmt.Fprintf(&b, `<text id="unzoom" class="ctl" x="%d" y="60">Reset zoom</text>`+"\n", flamePad)
	fmt.Fprintf(&b, `<text id="search" class="ctl" x="%d" y="60" text-anchor="end">Search</text>`+"\n", flameW-flamePad)
	fmt.Fprintf(&b, `<text id="matched" x="%d" y="%d" text-anchor="end"> </text>`+"\n", flameW-flamePad, height-22)
	fmt.Fprintf(&b, `<text id="details" x="%d" y="%d"> </text>`+"\n", flamePad, height-22)
	fmt.Fprintf(&b, `<text x="%d" y="%d" style="font-size:11px;fill:#555">%s</text>`+"\n", flamePad, height-6, svg.Escape(flameLegend(g)))
	scale := float64(flameW-2*flamePad) / float64(g.Total)
	maxDelta := g.maxDelta()
	for _, f := range g.Frames {
		wpx := float64(f.Value) * scale
		if wpx < flameMinWidth {
			continue
		}
		x := flamePad + float64(f.Start)*scale
		y := flameTop + graphH - (f.Depth+1)*flameFrameH
		fill := frameColor(f)
		if g.Diff && f.Kind != frameRoot && f.Kind != frameRole {
			fill = deltaColor(f.delta(), maxDelta)
		}
		frameBox(&b, "f", x, y, wpx, fill, f.Name, frameTooltip(g, f))
	}
	if goneH > 0 {
		writeGone(&b, g, gone, flameTop+graphH+8, maxDelta)
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// frameBox writes one frame: a group with the tooltip, the box and the
// name elided to fit (an empty <text> when nothing fits, for the script
// to fill in when zooming).
func frameBox(b *bytes.Buffer, class string, x float64, y int, w float64, fill, name, tip string) {
	fmt.Fprintf(b, `<g class="%s"><title>%s</title><rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" rx="2"/><text x="%.1f" y="%d"%s>%s</text></g>`+"\n",
		class, svg.Escape(tip), x, y, w, flameFrameH-1, fill, x+3, y+flameFrameH-4, textStyle(fill), svg.Escape(fitName(name, w)))
}

// textStyle makes text white on a dark box (a deep blue of a diff).
func textStyle(fill string) string {
	var r, g, bl int
	if n, _ := fmt.Sscanf(fill, "rgb(%d,%d,%d)", &r, &g, &bl); n == 3 && 299*r+587*g+114*bl < 128000 {
		return ` style="fill:white"`
	}
	return ""
}

// fitName elides name to the characters that fit in a box w wide: the
// whole name, or a prefix and "..", or nothing below three characters.
// The script's fit() does the same when zooming.
func fitName(name string, w float64) string {
	n := int((w - 6) / (flameFont * flameCharW))
	if n < 3 {
		return ""
	}
	if utf8.RuneCountInString(name) <= n {
		return name
	}
	r := []rune(name)
	return string(r[:n-2]) + ".."
}

// frameTooltip is a frame's <title>: the name on the first line (the
// script searches it), then the figures.
func frameTooltip(g *Graph, f Frame) string {
	kind := ""
	switch f.Kind {
	case frameKernel:
		kind = " [kernel]"
	case frameUser:
		kind = " [user]"
	}
	of := "of all"
	if f.Role != "" {
		of = "of the " + f.Role
	}
	if g.Diff {
		return fmt.Sprintf("%s%s\nA %s, B %s %s (%s) · this call path: %s, %s in B", f.Name, kind, table.Percent(f.ShareA), table.Percent(f.ShareB), of, table.Points(f.delta()), table.Value(f.Value, g.SampleType), table.Percent(f.RoleShare))
	}
	s := fmt.Sprintf("%s%s\n%s, %s of all", f.Name, kind, table.Value(f.Value, g.SampleType), table.Percent(f.Share))
	if f.Role != "" {
		s += fmt.Sprintf(", %s of the %s", table.Percent(f.RoleShare), f.Role)
	}
	if f.Self > 0 {
		s += fmt.Sprintf("; self %s", table.Value(f.Self, g.SampleType))
	}
	return s
}

func flameLegend(g *Graph) string {
	if g.Diff {
		return "B's stacks; red: the function's inclusive share of its role grew from A, blue: it shrank, white: unchanged; saturation by the size of the change. Click to zoom, Search to highlight."
	}
	return "orange: kernel frames, green: user frames, grey: root and roles; width: share of all samples. Click to zoom, Search to highlight."
}

// writeGone lists A's functions that B lacks as blue boxes sized by their
// share in A.
func writeGone(b *bytes.Buffer, g *Graph, gone []GoneFrame, y0 int, maxDelta float64) {
	head := fmt.Sprintf("Only in A (not on any of B's stacks of the role): %d function(s)", len(g.Gone))
	if len(g.Gone) > len(gone) {
		head += fmt.Sprintf(", the %d largest shown", len(gone))
	}
	fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", flamePad, y0+14, svg.Escape(head))
	for i, f := range gone {
		y := y0 + 22 + i*flameFrameH
		of := "of all"
		if f.Role != "" {
			of = "of the " + f.Role
		}
		kind := " [user]"
		if f.Kernel {
			kind = " [kernel]"
		}
		tip := fmt.Sprintf("%s%s\nA %s, B 0.00%% %s (%s)", f.Name, kind, table.Percent(f.ShareA), of, table.Points(-f.ShareA))
		w := math.Max(float64(flameW-2*flamePad)*f.ShareA, 2)
		label := fmt.Sprintf("%s  %s %s in A", f.Name, table.Percent(f.ShareA), of)
		tx, fill, style := float64(flamePad)+w+4, deltaColor(-f.ShareA, maxDelta), ""
		if w > float64(flameW)/2 {
			tx, style = flamePad+3, textStyle(fill) // a long box holds its label
		}
		fmt.Fprintf(b, `<g class="gone"><title>%s</title><rect x="%d" y="%d" width="%.1f" height="%d" fill="%s" rx="2"/><text x="%.1f" y="%d"%s>%s</text></g>`+"\n",
			svg.Escape(tip), flamePad, y, w, flameFrameH-1, fill, tx, y+flameFrameH-4, style, svg.Escape(label))
	}
}

// maxDelta is the largest change of share of any frame of a diff graph,
// at least 1pp so that noise does not look saturated.
func (g *Graph) maxDelta() float64 {
	m := 0.01
	for _, f := range g.Frames {
		if f.Kind != frameRoot && f.Kind != frameRole {
			m = math.Max(m, math.Abs(f.delta()))
		}
	}
	for _, f := range g.Gone {
		m = math.Max(m, f.ShareA)
	}
	return m
}

// deltaColor is red for a share that grew, blue for one that shrank, the
// more saturated the larger the change against max; white for none.
func deltaColor(d, max float64) string {
	k := int(math.Round(215 * math.Min(1, math.Abs(d)/max)))
	switch {
	case d > 0:
		return fmt.Sprintf("rgb(255,%d,%d)", 250-k, 250-k)
	case d < 0:
		return fmt.Sprintf("rgb(%d,%d,255)", 250-k, 250-k)
	}
	return "rgb(250,250,250)"
}

// frameColor picks a frame's colour from its kind, varied by a hash of
// its name so neighbours stand apart and the same function always looks
// the same.
func frameColor(f Frame) string {
	h := fnv.New32a()
	h.Write([]byte(f.Name))
	v := h.Sum32()
	a, c := int(v%55), int((v>>8)%55)
	switch f.Kind {
	case frameKernel:
		return fmt.Sprintf("rgb(%d,%d,%d)", 235+a%20, 120+c, 30+a/2)
	case frameUser:
		return fmt.Sprintf("rgb(%d,%d,%d)", 60+a, 175+c, 70+a/2)
	}
	return "rgb(200,200,200)"
}

// flameScript is the inline script: click a frame to zoom into it (its
// ancestors stay, faded), Reset zoom, Search (or Ctrl-F) for a regular
// expression, highlighting matches and showing the share they cover
// (nested matches counted once), Escape to clear; hovering shows the
// tooltip on the details line.
var flameScript = strings.TrimSpace(`
"use strict";
(function () {
  var svg, frames, pad, font, full, details, matched, unzoom, searchBtn;
  function fit(name, w) {
    var n = Math.floor((w - 6) / (font * 0.59));
    if (n < 3) return "";
    if (name.length <= n) return name;
    return name.slice(0, n - 2) + "..";
  }
  function place(g, x, w) {
    g._r.setAttribute("x", x.toFixed(1));
    g._r.setAttribute("width", w.toFixed(1));
    g._t.setAttribute("x", (x + 3).toFixed(1));
    g._t.textContent = fit(g._n, w);
  }
  function zoom(z) {
    var x0 = z._x, w0 = z._w, ratio = full / w0, eps = 1e-6;
    unzoom.style.opacity = 1;
    frames.forEach(function (g) {
      var inside = g._x >= x0 - eps && g._x + g._w <= x0 + w0 + eps;
      var over = g._x <= x0 + eps && g._x + g._w >= x0 + w0 - eps;
      if (g._y <= z._y && inside) {
        g.style.display = ""; g.style.opacity = 1;
        place(g, pad + (g._x - x0) * ratio, g._w * ratio);
      } else if (g._y > z._y && over) {
        g.style.display = ""; g.style.opacity = 0.6;
        place(g, pad, full);
      } else {
        g.style.display = "none";
      }
    });
  }
  function reset() {
    unzoom.style.opacity = 0;
    frames.forEach(function (g) {
      g.style.display = ""; g.style.opacity = 1;
      place(g, g._x, g._w);
    });
  }
  function clearSearch() {
    frames.forEach(function (g) { g._r.setAttribute("fill", g._fill); });
    matched.textContent = " ";
  }
  function search() {
    var term = window.prompt("Search for (regular expression):", "");
    if (term === null) return;
    clearSearch();
    if (term === "") return;
    var re;
    try { re = new RegExp(term); } catch (e) { matched.textContent = "not a regular expression"; return; }
    var spans = [];
    frames.forEach(function (g) {
      if (g._kind === "f" && re.test(g._n)) {
        g._r.setAttribute("fill", "rgb(230,0,230)");
        spans.push([g._x, g._x + g._w]);
      }
    });
    spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    var sum = 0, end = -Infinity;
    spans.forEach(function (s) {
      if (s[0] >= end) { sum += s[1] - s[0]; end = s[1]; }
      else if (s[1] > end) { sum += s[1] - end; end = s[1]; }
    });
    matched.textContent = "Matched " + spans.length + " frame(s): " + (100 * sum / full).toFixed(2) + "% of all";
  }
  window.addEventListener("load", function () {
    svg = document.documentElement;
    pad = +svg.getAttribute("data-pad");
    font = +svg.getAttribute("data-font");
    full = +svg.getAttribute("width") - 2 * pad;
    details = document.getElementById("details");
    matched = document.getElementById("matched");
    unzoom = document.getElementById("unzoom");
    searchBtn = document.getElementById("search");
    frames = Array.prototype.slice.call(document.querySelectorAll("g.f"));
    frames.forEach(function (g) {
      g._r = g.querySelector("rect"); g._t = g.querySelector("text");
      g._x = +g._r.getAttribute("x"); g._w = +g._r.getAttribute("width"); g._y = +g._r.getAttribute("y");
      g._n = g.querySelector("title").textContent.split("\n")[0].replace(/ \[(kernel|user)\]$/, "");
      g._fill = g._r.getAttribute("fill"); g._kind = "f";
    });
    svg.addEventListener("click", function (e) {
      var g = e.target.closest ? e.target.closest("g.f") : null;
      if (g) zoom(g);
    });
    svg.addEventListener("mouseover", function (e) {
      var g = e.target.closest ? e.target.closest("g.f, g.gone") : null;
      if (g) details.textContent = g.querySelector("title").textContent.replace(/\n/g, " · ");
    });
    svg.addEventListener("mouseout", function () { details.textContent = " "; });
    unzoom.addEventListener("click", function (e) { e.stopPropagation(); reset(); });
    searchBtn.addEventListener("click", function (e) { e.stopPropagation(); search(); });
    window.addEventListener("keydown", function (e) {
      if ((e.ctrlKey || e.metaKey) && e.key === "f") { e.preventDefault(); search(); }
      if (e.key === "Escape") clearSearch();
    });
  });
})();
`)
