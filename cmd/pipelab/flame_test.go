package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wellFormed fails t unless data is well-formed XML with an <svg> root.
func wellFormed(t *testing.T, name string, data []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", name, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Fatalf("%s: root element %q, want svg", name, root)
	}
}

// TestFlameCommand: -o writes the SVG and nothing to stdout, flags may
// follow the profile, no -o writes it to stdout, and a failed write
// leaves no file behind.
func TestFlameCommand(t *testing.T) {
	dir := t.TempDir()
	writeFixtureProfiles(t, dir)
	stdout, stderr, code := pipelab(t, dir, "flame", "kernel.pb.gz", "-o", "k.svg", "--title", "one frame")
	if code != 0 || stdout != "" || stderr != "" {
		t.Fatalf("flame -o: status %d, stdout %q, stderr %q; want 0 and nothing", code, stdout, stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "k.svg"))
	if err != nil {
		t.Fatal(err)
	}
	wellFormed(t, "k.svg", data)
	if !strings.Contains(string(data), "<title>anon_pipe_write [kernel]&#xA;") || !strings.Contains(string(data), "<title>one frame</title>") {
		t.Error("k.svg lacks the anon_pipe_write box or the title")
	}
	stdout, _, code = pipelab(t, dir, "flame", "--diff", "kernel.pb.gz", "kernel.pb.gz")
	if code != 0 {
		t.Fatalf("flame --diff to stdout: status %d", code)
	}
	wellFormed(t, "stdout", []byte(stdout))
	sub := filepath.Join(dir, "ro")
	if err := os.Mkdir(sub, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 { // root writes anywhere
		if _, _, code := pipelab(t, dir, "flame", "kernel.pb.gz", "-o", filepath.Join("ro", "x.svg")); code != 2 {
			t.Errorf("flame -o into a read-only folder: status %d, want 2", code)
		}
	}
	if _, _, code := pipelab(t, dir, "flame", "nosamples.pb.gz", "-o", filepath.Join("ro", "x.svg")); code != 2 {
		t.Errorf("flame of an empty profile: status %d, want 2", code)
	}
	if left, _ := os.ReadDir(sub); len(left) != 0 {
		t.Errorf("a failed flame left %v behind", left)
	}
}

// framesUnder counts the boxes of fn in a flame graph SVG that sit right
// on a box of parent (the root is at the bottom).
func framesUnder(t *testing.T, svg []byte, fn, parent string) int {
	t.Helper()
	wellFormed(t, "flame graph", svg)
	type rect struct {
		X     float64 `xml:"x,attr"`
		Y     float64 `xml:"y,attr"`
		Width float64 `xml:"width,attr"`
	}
	var boxes struct {
		G []struct {
			Title string `xml:"title"`
			Rect  rect   `xml:"rect"`
		} `xml:"g"`
	}
	if err := xml.Unmarshal(svg, &boxes); err != nil {
		t.Fatal(err)
	}
	name := func(title string) string {
		n, _, _ := strings.Cut(title, "\n")
		return strings.TrimSuffix(n, " [kernel]")
	}
	n := 0
	for _, b := range boxes.G {
		if name(b.Title) != fn {
			continue
		}
		for _, p := range boxes.G {
			if name(p.Title) == parent && p.Rect.Y > b.Rect.Y && p.Rect.Y-b.Rect.Y < 20 && p.Rect.X <= b.Rect.X+0.05 && p.Rect.X+p.Rect.Width >= b.Rect.X+b.Rect.Width-0.15 {
				n++
				break
			}
		}
	}
	return n
}
