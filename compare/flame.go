package compare

import (
	"bytes"
	"errors"
	"fmt"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/flame"
	"github.com/pipelab/pipelab/internal/tally"
	"github.com/pipelab/pipelab/result"
)

// LadderFlame is one differential flame graph of a comparison: a step's
// role in another folder against the base folder.
type LadderFlame struct {
	Role string `json:"role"`
	// Folder is the index of the other folder in Ladders.Folders.
	Folder int `json:"folder"`
	// File is the SVG's name inside the --out folder.
	File string `json:"file"`
}

// diffFlames computes, for every step and role profiled both in the base
// folder and in another one, the differential flame graph of the other
// against the base, records it in the step's Flames and returns the SVGs
// to write.
func (l *Ladders) diffFlames() ([]result.Output, error) {
	var outs []result.Output
	for si := range l.Steps {
		st := &l.Steps[si]
		if len(st.Cells) == 0 || !st.Cells[0].Profiled {
			continue
		}
		base, err := l.stepProfile(0, st.Mode)
		if err != nil {
			return nil, err
		}
		for i := 1; i < len(st.Cells); i++ {
			if !st.Cells[i].Profiled {
				continue
			}
			other, err := l.stepProfile(i, st.Mode)
			if err != nil {
				return nil, err
			}
			for _, role := range tally.UnionRoles(base, other) {
				out, err := l.diffFlame(st, i, role, base, other)
				if err != nil {
					return nil, err
				}
				if out != nil {
					outs = append(outs, *out)
				}
			}
		}
	}
	return outs, nil
}

// diffFlame renders one differential flame graph; nil when the role has
// no samples on one side.
func (l *Ladders) diffFlame(st *LadderStep, i int, role string, base, other *pprof.Profile) (*result.Output, error) {
	g, err := flame.Diff(base, other, flame.Options{
		SampleType: l.SampleType,
		TagFocus:   "role=" + role,
		Title:      fmt.Sprintf("%s, %s: %s against %s", st.Mode, role, l.Folders[i].Name, l.Folders[0].Name),
	})
	if errors.Is(err, flame.ErrNoSamples) || errors.Is(err, result.ErrSampleTypes) {
		st.Notes = append(st.Notes, fmt.Sprintf("no differential flame graph of the %s in %s: %v", role, l.Folders[i].Name, err))
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var svg bytes.Buffer
	if err := flame.WriteSVG(&svg, g); err != nil {
		return nil, err
	}
	f := LadderFlame{Role: role, Folder: i, File: result.CompareFlameFile(st.Mode, role, i)}
	st.Flames = append(st.Flames, f)
	out := result.BytesOutput(f.File, svg.Bytes())
	return &out, nil
}

// stepProfile reads the profile of mode in folder i again.
func (l *Ladders) stepProfile(i int, mode string) (*pprof.Profile, error) {
	f, err := result.OpenFolder(l.Folders[i].Name)
	if err != nil {
		return nil, err
	}
	return f.StepProfile(mode)
}
