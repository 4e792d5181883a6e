package flame

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	gpprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/result"
)

// svgBox is one frame of a rendered flame graph, as a browser sees it.
type svgBox struct {
	Class string  `xml:"class,attr"`
	Title string  `xml:"title"`
	Rect  svgRect `xml:"rect"`
	Text  string  `xml:"text"`
}

type svgRect struct {
	X     float64 `xml:"x,attr"`
	Y     float64 `xml:"y,attr"`
	Width float64 `xml:"width,attr"`
	Fill  string  `xml:"fill,attr"`
}

// name is the function a box is for: its tooltip's first line without
// the [kernel]/[user] mark.
func (b svgBox) name() string {
	n, _, _ := strings.Cut(b.Title, "\n")
	n = strings.TrimSuffix(n, " [kernel]")
	return strings.TrimSuffix(n, " [user]")
}

// parseFlameSVG checks that svg is well-formed XML and returns its boxes.
func parseFlameSVG(t *testing.T, svg []byte) []svgBox {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
	}
	var doc struct {
		XMLName xml.Name
		G       []svgBox `xml:"g"`
	}
	if err := xml.Unmarshal(svg, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.XMLName.Local != "svg" {
		t.Fatalf("root element: got %s, want svg", doc.XMLName.Local)
	}
	return doc.G
}

func renderFlame(t *testing.T, g *Graph) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteSVG(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustFlame(t *testing.T, p *gpprof.Profile, opt Options) *Graph {
	t.Helper()
	g, err := New(p, opt)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestFlameWriteWriter draws the writer of the captured write step: its
// anon_pipe_write boxes sit on vfs_write boxes, kernel frames and user
// frames have different colours, and the graph matches its golden file.
func TestFlameWriteWriter(t *testing.T) {
	g := mustFlame(t, fixture.Profile(t, "write"), Options{TagFocus: "role=writer"})
	svg := renderFlame(t, g)
	fixture.Golden(t, "flame.write.writer.svg", svg)
	boxes := parseFlameSVG(t, svg)
	under := 0
	for _, b := range boxes {
		if b.Class != "f" || b.name() != "anon_pipe_write" {
			continue
		}
		p := parentBox(boxes, b)
		if p == nil || p.name() != "vfs_write" {
			t.Errorf("anon_pipe_write at x=%.1f: got parent %v, want vfs_write", b.Rect.X, p)
			continue
		}
		under++
	}
	if under == 0 {
		t.Fatal("no anon_pipe_write box in the writer's flame graph of the write step")
	}
	colors := map[bool]string{}
	for _, b := range boxes {
		if b.Class == "f" && strings.Contains(b.Title, " [kernel]\n") {
			colors[true] = b.Rect.Fill
		} else if b.Class == "f" && strings.Contains(b.Title, " [user]\n") {
			colors[false] = b.Rect.Fill
		}
	}
	if kr, _ := rgb(colors[true]); kr < 200 {
		t.Errorf("kernel frame colour %s: want an orange (red above 200)", colors[true])
	}
	if _, ug := rgb(colors[false]); ug < 170 {
		t.Errorf("user frame colour %s: want a green", colors[false])
	}
	if strings.Contains(string(svg), "reader") {
		t.Error("--tagfocus role=writer kept the reader's samples")
	}
}

// rgb returns the red and green of "rgb(r,g,b)".
func rgb(s string) (r, g int) {
	var b int
	fmt.Sscanf(s, "rgb(%d,%d,%d)", &r, &g, &b)
	return r, g
}

// parentBox returns the box right below b (the root is at the bottom)
// that spans it, or nil.
func parentBox(boxes []svgBox, b svgBox) *svgBox {
	for i, p := range boxes {
		if p.Class == "f" && p.Rect.Y == b.Rect.Y+flameFrameH && p.Rect.X <= b.Rect.X+0.05 && p.Rect.X+p.Rect.Width >= b.Rect.X+b.Rect.Width-0.15 {
			return &boxes[i]
		}
	}
	return nil
}

// TestFlameWidthsAddUp checks every captured step, both roles: in the
// data and in the drawing, a parent is at least as wide as its children
// together, and every child lies within its parent.
func TestFlameWidthsAddUp(t *testing.T) {
	for _, mode := range fixture.Modes {
		t.Run(mode, func(t *testing.T) {
			g := mustFlame(t, fixture.Profile(t, mode), Options{})
			var stack []Frame
			sums := map[int]int64{}
			check := func(f Frame) {
				if f.Value < sums[f.Depth+1] {
					t.Errorf("%s: value %d below its children's %d", f.Name, f.Value, sums[f.Depth+1])
				}
			}
			for _, f := range g.Frames {
				for len(stack) > 0 && stack[len(stack)-1].Depth >= f.Depth {
					top := stack[len(stack)-1]
					check(top)
					delete(sums, top.Depth+1)
					stack = stack[:len(stack)-1]
				}
				sums[f.Depth] += f.Value
				stack = append(stack, f)
			}
			for i := len(stack) - 1; i >= 0; i-- {
				check(stack[i])
				delete(sums, stack[i].Depth+1)
			}
			boxes := parseFlameSVG(t, renderFlame(t, g))
			kids := map[int]float64{}
			for i, b := range boxes {
				if b.Class != "f" || b.name() == "all" {
					continue
				}
				p := parentBox(boxes, b)
				if p == nil {
					t.Fatalf("box %s at x=%.1f y=%.0f lies in no parent", b.name(), b.Rect.X, b.Rect.Y)
				}
				kids[indexOf(boxes, p)] += b.Rect.Width
				_ = i
			}
			for i, w := range kids {
				// Each drawn width is rounded to 0.1.
				if pw := boxes[i].Rect.Width; w > pw+0.05*float64(len(boxes)) {
					t.Errorf("%s: %.1f px wide, its children %.1f px together", boxes[i].name(), pw, w)
				}
			}
		})
	}
}

func indexOf(boxes []svgBox, p *svgBox) int {
	for i := range boxes {
		if &boxes[i] == p {
			return i
		}
	}
	return -1
}

// TestDiffFlameWriteToVmsplice: from write to vmsplice the writer stops
// copying, so copy_page_from_iter is listed beneath as only in A, in
// blue, with its share in A; __do_sys_vmsplice grew, so it is red.
func TestDiffFlameWriteToVmsplice(t *testing.T) {
	g, err := Diff(fixture.Profile(t, "write"), fixture.Profile(t, "vmsplice"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	svg := renderFlame(t, g)
	fixture.Golden(t, "flame.write-vmsplice.diff.svg", svg)
	boxes := parseFlameSVG(t, svg)
	var copyBox, vmspliceBox *svgBox
	for i, b := range boxes {
		switch {
		case b.name() == "copy_page_from_iter" && strings.Contains(b.Title, "of the writer"):
			copyBox = &boxes[i]
		case b.name() == "__do_sys_vmsplice" && b.Class == "f":
			vmspliceBox = &boxes[i]
		}
	}
	if copyBox == nil {
		t.Fatal("copy_page_from_iter of the writer is not in the diff flame graph")
	}
	if r, gr := rgb(copyBox.Rect.Fill); copyBox.Class != "gone" || r >= 250 || gr >= 250 || !strings.HasSuffix(copyBox.Rect.Fill, ",255)") {
		t.Errorf("copy_page_from_iter: class %q fill %s, want class gone and a blue (shrunk)", copyBox.Class, copyBox.Rect.Fill)
	}
	if !strings.Contains(copyBox.Title, "B 0.00%") || !strings.Contains(copyBox.Title, "pp)") {
		t.Errorf("copy_page_from_iter tooltip %q: want both shares and the change in pp", copyBox.Title)
	}
	if vmspliceBox == nil {
		t.Fatal("no __do_sys_vmsplice box in the diff flame graph")
	}
	if !strings.HasPrefix(vmspliceBox.Rect.Fill, "rgb(255,") || strings.HasSuffix(vmspliceBox.Rect.Fill, ",255)") {
		t.Errorf("__do_sys_vmsplice fill %s: want a red (grew)", vmspliceBox.Rect.Fill)
	}
}

// TestDiffFlameSharesAreDiffs: the shares a diff flame graph colours by
// are the inclusive shares pipelab diff reports for the same symbols.
func TestDiffFlameSharesAreDiffs(t *testing.T) {
	a, b := fixture.Profile(t, "splice"), fixture.Profile(t, "huge")
	g, err := Diff(a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := attribute.Diff(a, b, attribute.Options{Top: 1000})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]attribute.DiffRow{}
	for _, d := range ds {
		for _, r := range d.Rows {
			want[d.Role+" "+r.Symbol] = r
		}
	}
	checked := 0
	for _, f := range g.Frames {
		r, ok := want[f.Role+" "+f.Name]
		if f.Kind != frameKernel || !ok {
			continue
		}
		checked++
		if math.Abs(r.CumA-f.ShareA) > 1e-9 || math.Abs(r.CumB-f.ShareB) > 1e-9 {
			t.Errorf("%s %s: flame shares %.4f→%.4f, diff %.4f→%.4f", f.Role, f.Name, f.ShareA, f.ShareB, r.CumA, r.CumB)
		}
	}
	if checked == 0 {
		t.Fatal("no kernel frame of the diff flame graph is in the diff")
	}
}

// burnCPU spins for d so the CPU profiler has something to sample.
func burnCPU(d time.Duration) int {
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 1e5; i++ {
			n += i % 7
		}
	}
	return n
}

// TestFlameGoCPUProfile renders a Go CPU profile this test makes with
// runtime/pprof, as go test -cpuprofile would write it.
func TestFlameGoCPUProfile(t *testing.T) {
	var p *gpprof.Profile
	for try := 0; try < 10; try++ {
		var buf bytes.Buffer
		if err := pprof.StartCPUProfile(&buf); err != nil {
			t.Skipf("CPU profiling is in use: %v", err)
		}
		burnCPU(300 * time.Millisecond)
		pprof.StopCPUProfile()
		var err error
		if p, err = result.ReadProfile(&buf); err != nil {
			t.Fatal(err)
		}
		if len(p.Sample) > 0 {
			break
		}
	}
	g := mustFlame(t, p, Options{Title: "go test"})
	if g.SampleType != "cpu/nanoseconds" {
		t.Errorf("sample type: got %s, want cpu/nanoseconds", g.SampleType)
	}
	found := false
	for _, b := range parseFlameSVG(t, renderFlame(t, g)) {
		if strings.HasSuffix(b.name(), "flame.burnCPU") {
			found = true
			if !strings.Contains(b.Title, "[user]") {
				t.Errorf("burnCPU tooltip %q: want a user frame", b.Title)
			}
		}
	}
	if !found {
		t.Error("no flame.burnCPU box in the flame graph of a CPU profile that spent its time there")
	}
}

func TestFlameBadInput(t *testing.T) {
	empty := &gpprof.Profile{SampleType: []*gpprof.ValueType{{Type: "samples", Unit: "count"}}}
	for _, c := range []struct {
		name string
		p    *gpprof.Profile
		opt  Options
		want error
		text string
	}{
		{"empty", empty, Options{}, ErrNoSamples, "flame: no samples (the profile holds no samples with a positive samples/count; profile a run that does some work)"},
		{"sample type", fixture.Profile(t, "write"), Options{SampleType: "alloc_space"}, result.ErrSampleTypes, "flame: different sample types (no sample type alloc_space; the profile has samples/count, cpu/nanoseconds)"},
		{"tag", fixture.Profile(t, "write"), Options{TagFocus: "role=nobody"}, ErrNoSamples, "flame: no samples (no sample has the tag role=nobody; the profile's role tags are: role=reader, role=writer)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.p, c.opt)
			var fe *result.FileError
			if !errors.Is(err, c.want) || !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FileError wrapping %v", err, c.want)
			}
			if err.Error() != c.text {
				t.Errorf("got %q\nwant %q", err.Error(), c.text)
			}
		})
	}
	if _, err := Diff(fixture.Profile(t, "write"), empty, Options{}); !errors.Is(err, result.ErrSampleTypes) {
		t.Errorf("diff of different sample types: got %v, want ErrSampleTypes", err)
	}
}

// TestFitName: names are elided to the box, never spill out of it.
func TestFitName(t *testing.T) {
	for _, c := range []struct {
		name string
		w    float64
		want string
	}{
		{"anon_pipe_write", 200, "anon_pipe_write"},
		{"anon_pipe_write", 60, "anon_.."},
		{"anon_pipe_write", 20, ""},
	} {
		if got := fitName(c.name, c.w); got != c.want {
			t.Errorf("fitName(%q, %v): got %q, want %q", c.name, c.w, got, c.want)
		}
		if got := fitName(c.name, c.w); float64(len(got))*flameFont*flameCharW > c.w {
			t.Errorf("fitName(%q, %v) = %q is wider than the box", c.name, c.w, got)
		}
	}
}

// TestFlameManyStacks: thousands of distinct stacks still make a graph
// whose boxes all lie within 1200 px, with every tiny box left out rather
// than drawn below 0.1 px.
func TestFlameManyStacks(t *testing.T) {
	p := &gpprof.Profile{SampleType: []*gpprof.ValueType{{Type: "samples", Unit: "count"}}}
	m := &gpprof.Mapping{ID: 1, File: "/bin/x", HasFunctions: true}
	p.Mapping = []*gpprof.Mapping{m}
	loc := func(name string) *gpprof.Location {
		f := &gpprof.Function{ID: uint64(len(p.Function) + 1), Name: name}
		l := &gpprof.Location{ID: uint64(len(p.Location) + 1), Mapping: m, Line: []gpprof.Line{{Function: f}}}
		p.Function, p.Location = append(p.Function, f), append(p.Location, l)
		return l
	}
	root := loc("main")
	for i := 0; i < 3000; i++ {
		s := &gpprof.Sample{Value: []int64{int64(1 + i%5)}, Location: []*gpprof.Location{loc(fmt.Sprintf("leaf%04d", i)), loc(fmt.Sprintf("mid%02d", i%40)), root}}
		p.Sample = append(p.Sample, s)
	}
	svg := renderFlame(t, mustFlame(t, p, Options{}))
	boxes := parseFlameSVG(t, svg)
	if len(boxes) < 1000 {
		t.Errorf("%d boxes drawn of 3041 frames: want most of them", len(boxes))
	}
	for _, b := range boxes {
		if b.Rect.Width < flameMinWidth || b.Rect.X+b.Rect.Width > flameW-flamePad+0.2 {
			t.Fatalf("box %s at x=%.1f width %.1f: outside the graph or below %.1f px", b.name(), b.Rect.X, b.Rect.Width, flameMinWidth)
		}
	}
}
