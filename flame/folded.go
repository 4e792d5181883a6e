package flame

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/tally"
	"github.com/pipelab/pipelab/result"
)

// foldedStack is one line of the folded format read by flame-graph tools
// (flamegraph.pl, speedscope, inferno): frames root first, and a count.
type foldedStack struct {
	// Frames are function names, root first, kernel and user alike, as the
	// profile spells them; a frame without a function is its address.
	Frames []string
	// Count is the number of samples (samples/count), or the first sample
	// type's value when the profile has no samples/count.
	Count int64
}

// String returns the folded line "root;...;leaf count".
func (s foldedStack) String() string {
	return strings.Join(s.Frames, ";") + " " + fmt.Sprint(s.Count)
}

// foldStacks returns the stacks of one role ("" for every sample), identical
// stacks merged, sorted by their frames; stacks that add up to zero are
// left out. Inlined functions of one location come out as frames of their
// own, the caller first.
func foldStacks(p *pprof.Profile, role string) []foldedStack {
	idx := tally.FindType(p, "samples/count")
	if idx < 0 {
		idx = 0
	}
	byStack := map[string]int64{}
	for _, s := range p.Sample {
		if role != "" && tally.SampleRole(s) != role {
			continue
		}
		fs := tally.Frames(s)
		names := make([]string, len(fs))
		for i, f := range fs {
			names[len(fs)-1-i] = foldedName(f.Name)
		}
		if len(names) == 0 {
			names = []string{noStack}
		}
		byStack[strings.Join(names, ";")] += s.Value[idx]
	}
	keys := make([]string, 0, len(byStack))
	for k := range byStack {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]foldedStack, 0, len(keys))
	for _, k := range keys {
		if byStack[k] == 0 {
			continue
		}
		out = append(out, foldedStack{Frames: strings.Split(k, ";"), Count: byStack[k]})
	}
	return out
}

// noStack stands for a sample without locations, so its line still has a
// frame.
const noStack = "[no stack]"

// foldedName keeps the folded syntax intact: no ';' inside a frame and no
// line breaks.
func foldedName(name string) string {
	return strings.NewReplacer(";", ":", "\n", " ", "\r", " ").Replace(name)
}

// writeFolded writes stacks one per line.
func writeFolded(w io.Writer, stacks []foldedStack) error {
	bw := bufio.NewWriter(w)
	for _, s := range stacks {
		fmt.Fprintln(bw, s.String())
	}
	return bw.Flush()
}

// FoldedOutputs are the folded stacks of each role of step
// (MODE.ROLE.folded), cut from both, its profile holding both roles, for
// result.SaveStep.
func FoldedOutputs(step *result.Step, both *pprof.Profile) []result.Output {
	var outs []result.Output
	for _, r := range step.Roles {
		stacks := foldStacks(both, r.Role)
		outs = append(outs, result.Output{Name: result.FoldedFile(step.Mode, r.Role),
			Write: func(w io.Writer) error { return writeFolded(w, stacks) }})
	}
	return outs
}
