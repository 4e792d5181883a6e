package flame_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"path/filepath"
	"strings"

	"github.com/pipelab/pipelab/flame"
	"github.com/pipelab/pipelab/result"
)

// Profiles pipelab recorded, one per step of the post.
var profiles = filepath.Join("..", "internal", "fixture", "testdata")

// Build the flame graph of a pprof file (pipelab's, or go tool pprof's
// -proto output) and render it as a standalone SVG, as pipelab flame
// does.
func ExampleNew() {
	p, err := result.OpenProfile(filepath.Join(profiles, "write.pb.gz"))
	if err != nil {
		log.Fatal(err)
	}
	g, err := flame.New(p, flame.Options{TagFocus: "role=writer"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(g.Title)
	fmt.Println(g.Subtitle)
	for _, f := range g.Frames {
		if f.Depth == 5 && f.Share >= 0.5 {
			fmt.Printf("%s %.0f%%\n", f.Name, 100*f.Share)
		}
	}
	var svg bytes.Buffer
	if err := flame.WriteSVG(&svg, g); err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.SplitN(svg.String(), "\n", 2)[0])
	// Output:
	// Flame graph: write
	// width: cpu/nanoseconds; only samples tagged role=writer
	// vfs_write 95%
	// <?xml version="1.0" encoding="UTF-8" standalone="no"?>
}

// Colour one profile's flame graph by the change of each function's
// share against another, as pipelab flame --diff A B does.
func ExampleDiff() {
	a, err := result.OpenProfile(filepath.Join(profiles, "write.pb.gz"))
	if err != nil {
		log.Fatal(err)
	}
	b, err := result.OpenProfile(filepath.Join(profiles, "vmsplice.pb.gz"))
	if err != nil {
		log.Fatal(err)
	}
	g, err := flame.Diff(a, b, flame.Options{TagFocus: "role=writer"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(g.Title)
	for _, f := range g.Gone[:2] {
		fmt.Printf("gone: %s (%.0f%% of the writer in A)\n", f.Name, 100*f.ShareA)
	}
	if err := flame.WriteSVG(io.Discard, g); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Differential flame graph: write → vmsplice
	// gone: __GI___libc_write (96% of the writer in A)
	// gone: ksys_write (95% of the writer in A)
}
