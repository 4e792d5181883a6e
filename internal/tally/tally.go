package tally

import (
	"fmt"
	"sort"
	"strings"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/result"
)

// ValueIndex finds the sample type opt names in p.
func ValueIndex(p *pprof.Profile, want string) (int, error) {
	if want == "" {
		for _, w := range []string{"cpu/nanoseconds", "samples/count"} {
			if i := FindType(p, w); i >= 0 {
				return i, nil
			}
		}
		return len(p.SampleType) - 1, nil
	}
	if i := FindType(p, want); i >= 0 {
		return i, nil
	}
	return 0, &result.FileError{Op: "attribute", Err: fmt.Errorf("%w (no sample type %s; the profile has %s)", result.ErrSampleTypes, want, result.SampleTypes(p))}
}

// FindType is the index of the sample type want ("type/unit" or "type")
// in p, -1 when p has none.
func FindType(p *pprof.Profile, want string) int {
	for i, t := range p.SampleType {
		if TypeName(t) == want || t.Type == want {
			return i
		}
	}
	return -1
}

// TypeName spells a sample type "type/unit".
func TypeName(t *pprof.ValueType) string { return t.Type + "/" + t.Unit }

// Roles returns the role labels of p's samples: writer, reader, then the
// others sorted, then "all" for unlabeled samples.
func Roles(p *pprof.Profile) []string {
	seen := map[string]bool{}
	for _, s := range p.Sample {
		seen[SampleRole(s)] = true
	}
	rank := func(r string) string {
		switch r {
		case "writer":
			return "0"
		case "reader":
			return "1"
		case "all":
			return "3"
		}
		return "2" + r
	}
	var out []string
	for r := range seen {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}

// SampleRole is the role label of s, "all" without one.
func SampleRole(s *pprof.Sample) string {
	if r := s.Label["role"]; len(r) > 0 && r[0] != "" {
		return r[0]
	}
	return "all"
}

// Counts accumulates self and cumulative value per name.
type Counts struct {
	Self, Cum map[string]int64
	// spelled[key][name] is the value seen under each real spelling.
	spelled map[string]map[string]int64
}

// NewCounts returns empty Counts.
func NewCounts() Counts {
	return Counts{map[string]int64{}, map[string]int64{}, map[string]map[string]int64{}}
}

// Tally is one role's kernel time by symbol and by alias.
type Tally struct {
	Total   int64
	Samples int64
	IRQSelf int64
	Sym     Counts // by kernelName
	Post    Counts // by alias.Post
	User    Counts // user frames, by name (flame graphs colour them too)
}

// New walks the samples of one role once.
func New(p *pprof.Profile, role string, idx int) *Tally {
	t := &Tally{Sym: NewCounts(), Post: NewCounts(), User: NewCounts()}
	count := FindType(p, "samples/count")
	for _, s := range p.Sample {
		if SampleRole(s) != role {
			continue
		}
		v := s.Value[idx]
		t.Total += v
		if count >= 0 {
			t.Samples += s.Value[count]
		} else {
			t.Samples++
		}
		t.add(Frames(s), v)
	}
	return t
}

func (t *Tally) add(fs []Frame, v int64) {
	seenSym, seenAlias, seenUser := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, f := range fs {
		if !f.Kernel {
			if i == 0 {
				t.User.Self[f.Key] += v
			}
			if !seenUser[f.Key] {
				seenUser[f.Key] = true
				t.User.Cum[f.Key] += v
				t.User.Spell(f.Key, f.Name, v)
			}
			continue
		}
		a, isAlias := AliasIndex[f.Key]
		if i == 0 {
			t.Sym.Self[f.Key] += v
			if isAlias {
				t.Post.Self[Aliases[a].Post] += v
			}
			if IRQEnablePoints[f.Key] {
				t.IRQSelf += v
			}
		}
		if !seenSym[f.Key] {
			seenSym[f.Key] = true
			t.Sym.Cum[f.Key] += v
			t.Sym.Spell(f.Key, f.Name, v)
		}
		if isAlias && !seenAlias[Aliases[a].Post] {
			seenAlias[Aliases[a].Post] = true
			t.Post.Cum[Aliases[a].Post] += v
		}
		if isAlias {
			t.Post.Spell(Aliases[a].Post, f.Name, v)
		}
	}
}

// Spell adds v to key under one real spelling, name.
func (c Counts) Spell(key, name string, v int64) {
	m := c.spelled[key]
	if m == nil {
		m = map[string]int64{}
		c.spelled[key] = m
	}
	m[name] += v
}

// Spelling joins the real names seen for key, most value first.
func (c Counts) Spelling(key string) string {
	m := c.spelled[key]
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if m[names[i]] != m[names[j]] {
			return m[names[i]] > m[names[j]]
		}
		return names[i] < names[j]
	})
	return strings.Join(names, ", ")
}

// Share is v over the role's total, 0 when the total is 0.
func (t *Tally) Share(v int64) float64 {
	if t.Total == 0 {
		return 0
	}
	return float64(v) / float64(t.Total)
}

// Sum is the total of the positive values at idx of ss.
func Sum(ss []*pprof.Sample, idx int) int64 {
	var t int64
	for _, s := range ss {
		if v := s.Value[idx]; v > 0 {
			t += v
		}
	}
	return t
}

// UnionRoles returns the roles of a and b in roles() order.
func UnionRoles(a, b *pprof.Profile) []string {
	merged := &pprof.Profile{Sample: append(append([]*pprof.Sample{}, a.Sample...), b.Sample...)}
	return Roles(merged)
}

// CumShare is the inclusive share of the role's total of the kernel
// symbol or user function key.
func (t *Tally) CumShare(kernel bool, key string) float64 {
	if kernel {
		return t.Share(t.Sym.Cum[key])
	}
	return t.Share(t.User.Cum[key])
}
