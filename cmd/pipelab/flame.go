package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"

	pprof "github.com/google/pprof/profile"

	"github.com/pipelab/pipelab/flame"
	"github.com/pipelab/pipelab/result"
)

func cmdFlame(ctx context.Context, env *cli, args []string) error {
	var opt flame.Options
	var output string
	var diff bool
	fs := newFlagSet("flame", "[flags] PROFILE  |  pipelab flame --diff [flags] A B",
		"Draw a flame graph of PROFILE as a standalone SVG: any pprof file (pipelab's own, a Go CPU\n"+
			"profile from go test -cpuprofile, one converted from perf.data) or a result folder holding\n"+
			"one profiled step. Boxes are sized by the sample value; each has a tooltip with the function,\n"+
			"its value and share; kernel frames are orange, user frames green. In a browser, click a box\n"+
			"to zoom and use Search (or Ctrl-F) to highlight functions and see their total share.\n"+
			"With --diff, B's stacks coloured by how each function's inclusive share of its role changed\n"+
			"from A (red grew, blue shrank; shares as pipelab diff computes them), and the functions only\n"+
			"A has listed beneath.")
	fs.StringVar(&output, "o", "", "write the SVG to this `file` (default: standard output)")
	fs.StringVar(&opt.SampleType, "sample-type", "", "sample `type` that sizes the boxes, e.g. cpu/nanoseconds or samples/count (default: cpu/nanoseconds when present)")
	fs.StringVar(&opt.TagFocus, "tagfocus", "", "keep only samples with this label, `key=value` (e.g. role=writer)")
	fs.StringVar(&opt.Title, "title", "", "the graph's `title` (default: from the profile)")
	fs.BoolVar(&diff, "diff", false, "draw the differential flame graph of B against A")
	if err := fs.parse(env, args); err != nil {
		return err
	}
	pos := fs.Args()
	if opt.TagFocus != "" {
		if k, _, ok := strings.Cut(opt.TagFocus, "="); !ok || k == "" {
			return usagef("--tagfocus %s: not key=value (e.g. role=writer)", opt.TagFocus)
		}
	}
	want := 1
	if diff {
		want = 2
	}
	if len(pos) != want {
		if diff {
			return usagef("flame --diff: want two profiles, A and B, got %d argument(s) (see pipelab flame --help)", len(pos))
		}
		return usagef("flame: want one profile, got %d argument(s) (see pipelab flame --help)", len(pos))
	}
	g, err := flameGraph(pos, opt)
	if err != nil {
		return inputError(err)
	}
	var svg bytes.Buffer
	if err := flame.WriteSVG(&svg, g); err != nil {
		return err
	}
	if output == "" || output == "-" {
		_, err := env.stdout.Write(svg.Bytes())
		return err
	}
	if err := result.WriteFiles(filepath.Dir(output), result.BytesOutput(filepath.Base(output), svg.Bytes())); err != nil {
		var we *result.WriteError
		if errors.As(err, &we) {
			err = we.Err
		}
		return usagef("-o %s: %v (choose a writable path)", filepath.Clean(output), err)
	}
	return nil
}

// flameGraph reads the profiles named by paths (one, or A and B) and
// computes their flame graph.
func flameGraph(paths []string, opt flame.Options) (*flame.Graph, error) {
	var ps []*pprof.Profile
	for _, path := range paths {
		p, err := result.OpenInput(path)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	var g *flame.Graph
	var err error
	if len(ps) == 1 {
		g, err = flame.New(ps[0], opt)
	} else {
		g, err = flame.Diff(ps[0], ps[1], opt)
	}
	var fe *result.FileError
	if errors.As(err, &fe) && fe.Path == "" {
		fe.Path = strings.Join(paths, " ")
	}
	return g, err
}
