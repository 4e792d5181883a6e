package flame

import (
	"sort"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/tally"
	"github.com/pipelab/pipelab/result"
)

// Diff computes the differential flame graph of b against a: b's
// stacks, sized by b's values, each frame carrying its function's
// inclusive share of the role's total in A and in B, normalised per role
// as diff does (the same tally), and, in Gone, the functions on A's
// stacks of a role that b's stacks of the role never show. Bad input is
// a *FileError: different sample types (errSampleTypes), or either
// profile failing as in Flame.
func Diff(a, b *pprof.Profile, opt Options) (*Graph, error) {
	if err := result.SameSampleTypes(a, b); err != nil {
		return nil, &result.FileError{Op: "flame --diff", Err: err}
	}
	qa, idx, err := flameInput(a, opt, "A")
	if err != nil {
		return nil, err
	}
	qb, _, err := flameInput(b, opt, "B")
	if err != nil {
		return nil, err
	}
	rs := tally.UnionRoles(qa, qb)
	byRole := len(rs) > 1
	tb := buildTree(qb, idx, byRole)
	totB := roleTotals(qb, idx)
	// One tally per role of A and of B, keyed by the role frames carry.
	root := soleRole(rs, byRole)
	key := func(r string) string {
		if byRole {
			return r
		}
		return root
	}
	tallies := map[string][2]*tally.Tally{}
	for _, r := range rs {
		tallies[key(r)] = [2]*tally.Tally{tally.New(qa, r, idx), tally.New(qb, r, idx)}
	}
	g := &Graph{Title: opt.Title, SampleType: tally.TypeName(qb.SampleType[idx]), Total: tb.value, Diff: true}
	if g.Title == "" {
		g.Title = "Differential flame graph"
		if ma, mb := labelValue(qa, "mode"), labelValue(qb, "mode"); ma != "" && mb != "" {
			g.Title += ": " + ma + " → " + mb
		}
	}
	g.Subtitle = flameSubtitle(g.SampleType+" of B", opt.TagFocus, "; colour: change of the function's inclusive share of its role from A to B")
	tb.layout(g, nil, 0, 0, root, func(f *Frame, n, _ *node) {
		f.Share = float64(n.value) / float64(tb.value)
		f.RoleShare = float64(n.value) / float64(totB[f.Role])
		if n.kind != frameKernel && n.kind != frameUser {
			f.ShareA, f.ShareB = 1, 1
			return
		}
		t := tallies[f.Role]
		f.ShareA, f.ShareB = t[0].CumShare(n.kind == frameKernel, kernelKey(n)), t[1].CumShare(n.kind == frameKernel, kernelKey(n))
	})
	for _, r := range rs {
		g.Gone = append(g.Gone, goneFrames(key(r), tallies[key(r)][0], tallies[key(r)][1])...)
	}
	sort.SliceStable(g.Gone, func(i, j int) bool { return g.Gone[i].ShareA > g.Gone[j].ShareA })
	return g, nil
}

// goneFrames lists the functions with time in ta that tb never shows,
// most first.
func goneFrames(role string, ta, tb *tally.Tally) []GoneFrame {
	var out []GoneFrame
	for _, c := range []struct {
		kernel bool
		a, b   tally.Counts
	}{{true, ta.Sym, tb.Sym}, {false, ta.User, tb.User}} {
		for k, v := range c.a.Cum {
			if v > 0 && c.b.Cum[k] == 0 {
				out = append(out, GoneFrame{Role: role, Name: c.a.Spelling(k), Kernel: c.kernel, ShareA: ta.Share(v)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ShareA != out[j].ShareA {
			return out[i].ShareA > out[j].ShareA
		}
		return out[i].Name < out[j].Name
	})
	return out
}
