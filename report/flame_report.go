package report

import (
	"bytes"
	"fmt"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/flame"
	"github.com/pipelab/pipelab/internal/table"
	"github.com/pipelab/pipelab/internal/tally"
	"github.com/pipelab/pipelab/result"
)

// stepFlame is one flame graph report.md shows: of a role's on-CPU time
// in a step, its off-CPU time (wall view), or its change from the step
// before. Write saves it as File beside report.md.
type stepFlame struct {
	Role string `json:"role"`
	View string `json:"view"`
	File string `json:"file"`
	// Graph is what File holds, computed by summarize.
	Graph *flame.Graph `json:"-"`
}

// Flame graph views of a step, as stepFlame.View.
const (
	viewCPU    = "cpu"
	viewOffCPU = "offcpu"
	viewDiff   = "diff"
)

// roleFlames computes one flame graph per role of p (the roles of its
// role labels), with title and file name made by name; a role without
// samples of the sample type gets none.
func roleFlames(p *pprof.Profile, view, sampleType string, name func(role string) (title, file string)) []stepFlame {
	var out []stepFlame
	for _, role := range tally.Roles(p) {
		title, file := name(role)
		g, err := flame.New(p, flame.Options{SampleType: sampleType, TagFocus: "role=" + role, Title: title})
		if err != nil {
			continue // nothing of this role to draw
		}
		out = append(out, stepFlame{Role: role, View: view, File: file, Graph: g})
	}
	return out
}

// stepFlames are the on-CPU flame graphs of a step's roles.
func stepFlames(mode string, p *pprof.Profile, opt attribute.Options) []stepFlame {
	return roleFlames(p, viewCPU, opt.SampleType, func(role string) (string, string) {
		return fmt.Sprintf("%s: the %s on CPU", mode, role), result.FlameFile(mode, role)
	})
}

// offCPUFlames are the off-CPU flame graphs of a step's wall profiles,
// by role.
func offCPUFlames(mode string, wall map[string]*pprof.Profile) []stepFlame {
	var out []stepFlame
	for _, role := range []string{"writer", "reader"} {
		if p := wall[role]; p != nil {
			out = append(out, roleFlames(p, viewOffCPU, result.OffCPUType, func(role string) (string, string) {
				return fmt.Sprintf("%s: where the %s was off CPU", mode, role), result.OffCPUFlameFile(mode, role)
			})...)
		}
	}
	return out
}

// diffFlames are the differential flame graphs of each role from step
// from (profile a) to step to (profile b).
func diffFlames(from, to string, a, b *pprof.Profile, opt attribute.Options) []stepFlame {
	var out []stepFlame
	for _, role := range tally.UnionRoles(a, b) {
		g, err := flame.Diff(a, b, flame.Options{SampleType: opt.SampleType, TagFocus: "role=" + role, Title: fmt.Sprintf("%s → %s: the %s", from, to, role)})
		if err != nil {
			continue // a role one of the steps lacks
		}
		out = append(out, stepFlame{Role: role, View: viewDiff, File: result.DiffFlameFile(from, to, role), Graph: g})
	}
	return out
}

// flameOutputs renders every flame graph of s for WriteFiles.
func flameOutputs(s *summary) ([]result.Output, error) {
	var outs []result.Output
	for _, st := range s.Steps {
		for _, f := range append(append(append([]stepFlame(nil), st.Flames...), st.OffCPUFlames...), st.DiffFlames...) {
			var b bytes.Buffer
			if err := flame.WriteSVG(&b, f.Graph); err != nil {
				return nil, fmt.Errorf("render %s: %w", f.File, err)
			}
			outs = append(outs, result.BytesOutput(f.File, b.Bytes()))
		}
	}
	return outs, nil
}

// writeFlames embeds flame graphs in report.md, relative links so the
// folder renders on a code-hosting site and locally.
func writeFlames(m *table.MarkdownWriter, what string, fs []stepFlame) {
	if len(fs) == 0 {
		return
	}
	m.Printf("%s (open one on its own to zoom and search):\n\n", what)
	for _, f := range fs {
		m.Printf("![%s](%s)\n\n", f.Graph.Title, f.File)
	}
}
