package attribute

import (
	"fmt"
	"math"
	"sort"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/tally"
	"github.com/pipelab/pipelab/result"
)

// DiffRow is one kernel symbol's share of a role's time in profile A and
// in profile B.
type DiffRow struct {
	// Symbol is the real symbol as B spells it (or A, when B lacks it).
	Symbol string `json:"symbol"`
	// Post is the post's name for the symbol when the alias table has it.
	Post string `json:"post,omitempty"`
	// SelfA, SelfB, CumA and CumB are self and inclusive shares, 0..1.
	SelfA float64 `json:"self_a"`
	SelfB float64 `json:"self_b"`
	CumA  float64 `json:"cum_a"`
	CumB  float64 `json:"cum_b"`
	// DeltaSelf and DeltaCum are B minus A.
	DeltaSelf float64 `json:"delta_self"`
	DeltaCum  float64 `json:"delta_cum"`
}

// RoleDiff compares one role of two profiles.
type RoleDiff struct {
	Role       string `json:"role"`
	SampleType string `json:"sample_type"`
	// TotalA and TotalB are the role's total value in A and in B;
	// SamplesA and SamplesB its sample counts.
	TotalA   int64 `json:"total_a"`
	TotalB   int64 `json:"total_b"`
	SamplesA int64 `json:"samples_a"`
	SamplesB int64 `json:"samples_b"`
	// Rows are sorted by the size of DeltaCum, then of DeltaSelf, biggest
	// first.
	Rows []DiffRow `json:"rows"`
}

// Diff compares the kernel time of each role of a and b: every kernel
// symbol's self and inclusive share of the role's total in A and in B, the
// biggest change first. opt.Top bounds the rows per role (0 means 20).
// Profiles of different sample types yield a *FileError wrapping
// errSampleTypes; one without kernel frames, errNoKernelFrames.
func Diff(a, b *pprof.Profile, opt Options) ([]RoleDiff, error) {
	if err := result.SameSampleTypes(a, b); err != nil {
		return nil, &result.FileError{Op: "diff", Err: err}
	}
	for i, p := range []*pprof.Profile{a, b} {
		if name := string(rune('A' + i)); !tally.HasKernelFrames(p) {
			return nil, &result.FileError{Op: "diff", Err: fmt.Errorf("%w (profile %s has none and diff compares kernel symbols; profile as root, or with kernel.perf_event_paranoid<=1 and kernel.kptr_restrict=0)", ErrNoKernelFrames, name)}
		}
	}
	idx, err := tally.ValueIndex(a, opt.SampleType)
	if err != nil {
		return nil, err
	}
	n := opt.Top
	if n <= 0 {
		n = 20
	}
	var out []RoleDiff
	for _, role := range tally.UnionRoles(a, b) {
		ta, tb := tally.New(a, role, idx), tally.New(b, role, idx)
		d := RoleDiff{Role: role, SampleType: tally.TypeName(a.SampleType[idx]), TotalA: ta.Total, TotalB: tb.Total, SamplesA: ta.Samples, SamplesB: tb.Samples}
		d.Rows = diffRows(ta, tb)
		if len(d.Rows) > n {
			d.Rows = d.Rows[:n]
		}
		out = append(out, d)
	}
	return out, nil
}

func diffRows(ta, tb *tally.Tally) []DiffRow {
	keys := map[string]bool{}
	for k := range ta.Sym.Cum {
		keys[k] = true
	}
	for k := range tb.Sym.Cum {
		keys[k] = true
	}
	rows := make([]DiffRow, 0, len(keys))
	for k := range keys {
		r := DiffRow{
			SelfA: ta.Share(ta.Sym.Self[k]), SelfB: tb.Share(tb.Sym.Self[k]),
			CumA: ta.Share(ta.Sym.Cum[k]), CumB: tb.Share(tb.Sym.Cum[k]),
		}
		r.DeltaSelf, r.DeltaCum = r.SelfB-r.SelfA, r.CumB-r.CumA
		if r.Symbol = tb.Sym.Spelling(k); r.Symbol == "" {
			r.Symbol = ta.Sym.Spelling(k)
		}
		if i, ok := tally.AliasIndex[k]; ok {
			r.Post = tally.Aliases[i].Post
		}
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if x, y := math.Abs(a.DeltaCum), math.Abs(b.DeltaCum); x != y {
			return x > y
		}
		if x, y := math.Abs(a.DeltaSelf), math.Abs(b.DeltaSelf); x != y {
			return x > y
		}
		return a.Symbol < b.Symbol
	})
	return rows
}

// DiffProfile builds the pprof-convention difference of p against base:
// base's samples labelled pprof::base=true and scaled by -1, merged with
// p's. `go tool pprof` shows the result as a diff, as it would with
// -diff_base.
func DiffProfile(base, p *pprof.Profile) (*pprof.Profile, error) {
	if err := result.SameSampleTypes(base, p); err != nil {
		return nil, &result.FileError{Op: "diff", Err: err}
	}
	b := base.Copy()
	b.SetLabel("pprof::base", []string{"true"})
	b.Scale(-1)
	d, err := pprof.Merge([]*pprof.Profile{p.Copy(), b})
	if err != nil {
		return nil, &result.FileError{Op: "diff", Err: fmt.Errorf("%w (%v)", result.ErrSampleTypes, err)}
	}
	return d, nil
}
