package report

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/result"
)

// errNoKernelFrames means a profile holds no kernel frames where the
// question needs them (attribution, diff).
var errNoKernelFrames = errors.New("no kernel frames")

// Options choose what attribution and diffs measure.
type Options struct {
	// SampleType is the value to share out, as "type/unit" or "type"
	// (e.g. "cpu/nanoseconds"). Empty means cpu/nanoseconds when the
	// profile has it, else samples/count, else the last sample type.
	SampleType string
	// Top is how many other kernel symbols to list per role; 0 means 10.
	Top int
	// Event is the event the samples came from ("cpu-clock" or
	// "cycles"); "" is taken as cpu-clock. Verdicts use it to say when
	// time sits on an irq-enable point only because of the timer.
	Event string
}

func (o Options) top() int {
	if o.Top <= 0 {
		return 10
	}
	return o.Top
}

// SymbolShare is the time of one kernel symbol (or one alias group) within
// one role.
type SymbolShare struct {
	// Post is the post's name for the symbol; empty for other symbols.
	Post string `json:"post,omitempty"`
	// Symbol is the real symbol that matched, as the profile spells it;
	// several are joined by ", ", most time first. Empty when none of the
	// alias's symbols was seen.
	Symbol string `json:"symbol"`
	// Self and Cum are the value (of Attribution.SampleType) with the
	// symbol as leaf, and with the symbol anywhere on the stack.
	Self int64 `json:"self"`
	Cum  int64 `json:"cum"`
	// SelfShare and CumShare are Self and Cum over the role's total, 0..1.
	SelfShare float64 `json:"self_share"`
	CumShare  float64 `json:"cum_share"`
}

// Attribution is where one role's time went in the kernel.
type Attribution struct {
	// Role is "writer", "reader", or "all" for a profile without role
	// labels.
	Role string `json:"role"`
	// SampleType is the value shared out, "type/unit".
	SampleType string `json:"sample_type"`
	// Total is the role's total value.
	Total int64 `json:"total"`
	// Samples is the role's number of samples: the sum of samples/count
	// when the profile has it, else the number of sample records.
	Samples int64 `json:"samples"`
	// Post has one row per entry of aliases, in table order.
	Post []SymbolShare `json:"post"`
	// Other lists the kernel symbols outside the alias table with the most
	// self time.
	Other []SymbolShare `json:"other"`
	// Top lists the kernel symbols with the most inclusive time, leaving
	// out the syscall entry frames every stack starts with.
	Top []SymbolShare `json:"top"`
	// IRQEnableSelf is the share of the role's time whose leaf is an
	// irq-enable point such as _raw_spin_unlock_irqrestore, 0..1.
	IRQEnableSelf float64 `json:"irq_enable_self_share"`
}

// Attribute shares out each role's time among the post's kernel symbols
// and the other kernel symbols. Roles come from the "role" label (writer
// first, then reader, then any other); samples without it form the role
// "all". A profile without kernel frames yields a *FileError wrapping
// errNoKernelFrames.
func Attribute(p *pprof.Profile, opt Options) ([]Attribution, error) {
	idx, err := valueIndex(p, opt.SampleType)
	if err != nil {
		return nil, err
	}
	if !hasKernelFrames(p) {
		return nil, &result.FileError{Op: "attribute", Err: fmt.Errorf("%w (no frame under a [kernel.kallsyms] mapping or at a kernel address; profile with pipelab profile as root or with kernel.perf_event_paranoid<=1 and kernel.kptr_restrict=0)", errNoKernelFrames)}
	}
	var out []Attribution
	for _, role := range roles(p) {
		t := tally(p, role, idx)
		out = append(out, t.attribution(role, typeName(p.SampleType[idx]), opt.top()))
	}
	return out, nil
}

// valueIndex finds the sample type opt names in p.
func valueIndex(p *pprof.Profile, want string) (int, error) {
	if want == "" {
		for _, w := range []string{"cpu/nanoseconds", "samples/count"} {
			if i := findType(p, w); i >= 0 {
				return i, nil
			}
		}
		return len(p.SampleType) - 1, nil
	}
	if i := findType(p, want); i >= 0 {
		return i, nil
	}
	return 0, &result.FileError{Op: "attribute", Err: fmt.Errorf("%w (no sample type %s; the profile has %s)", result.ErrSampleTypes, want, result.SampleTypes(p))}
}

func findType(p *pprof.Profile, want string) int {
	for i, t := range p.SampleType {
		if typeName(t) == want || t.Type == want {
			return i
		}
	}
	return -1
}

func typeName(t *pprof.ValueType) string { return t.Type + "/" + t.Unit }

// roles returns the role labels of p's samples: writer, reader, then the
// others sorted, then "all" for unlabeled samples.
func roles(p *pprof.Profile) []string {
	seen := map[string]bool{}
	for _, s := range p.Sample {
		seen[sampleRole(s)] = true
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

func sampleRole(s *pprof.Sample) string {
	if r := s.Label["role"]; len(r) > 0 && r[0] != "" {
		return r[0]
	}
	return "all"
}

// counts accumulates self and cumulative value per name.
type counts struct {
	self, cum map[string]int64
	// spelled[key][name] is the value seen under each real spelling.
	spelled map[string]map[string]int64
}

func newCounts() counts {
	return counts{map[string]int64{}, map[string]int64{}, map[string]map[string]int64{}}
}

// roleTally is one role's kernel time by symbol and by alias.
type roleTally struct {
	total   int64
	samples int64
	irqSelf int64
	sym     counts // by kernelName
	alias   counts // by alias.Post
	user    counts // user frames, by name (flame graphs colour them too)
}

// tally walks the samples of one role once.
func tally(p *pprof.Profile, role string, idx int) *roleTally {
	t := &roleTally{sym: newCounts(), alias: newCounts(), user: newCounts()}
	count := findType(p, "samples/count")
	for _, s := range p.Sample {
		if sampleRole(s) != role {
			continue
		}
		v := s.Value[idx]
		t.total += v
		if count >= 0 {
			t.samples += s.Value[count]
		} else {
			t.samples++
		}
		t.add(frames(s), v)
	}
	return t
}

func (t *roleTally) add(fs []frame, v int64) {
	seenSym, seenAlias, seenUser := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, f := range fs {
		if !f.kernel {
			if i == 0 {
				t.user.self[f.key] += v
			}
			if !seenUser[f.key] {
				seenUser[f.key] = true
				t.user.cum[f.key] += v
				t.user.spell(f.key, f.name, v)
			}
			continue
		}
		a, isAlias := aliasIndex[f.key]
		if i == 0 {
			t.sym.self[f.key] += v
			if isAlias {
				t.alias.self[aliases[a].Post] += v
			}
			if irqEnablePoints[f.key] {
				t.irqSelf += v
			}
		}
		if !seenSym[f.key] {
			seenSym[f.key] = true
			t.sym.cum[f.key] += v
			t.sym.spell(f.key, f.name, v)
		}
		if isAlias && !seenAlias[aliases[a].Post] {
			seenAlias[aliases[a].Post] = true
			t.alias.cum[aliases[a].Post] += v
		}
		if isAlias {
			t.alias.spell(aliases[a].Post, f.name, v)
		}
	}
}

func (c counts) spell(key, name string, v int64) {
	m := c.spelled[key]
	if m == nil {
		m = map[string]int64{}
		c.spelled[key] = m
	}
	m[name] += v
}

// spelling joins the real names seen for key, most value first.
func (c counts) spelling(key string) string {
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

func (t *roleTally) share(v int64) float64 {
	if t.total == 0 {
		return 0
	}
	return float64(v) / float64(t.total)
}

func (t *roleTally) row(post, symbol string, self, cum int64) SymbolShare {
	return SymbolShare{Post: post, Symbol: symbol, Self: self, Cum: cum, SelfShare: t.share(self), CumShare: t.share(cum)}
}

func (t *roleTally) attribution(role, sampleType string, n int) Attribution {
	a := Attribution{Role: role, SampleType: sampleType, Total: t.total, Samples: t.samples, IRQEnableSelf: t.share(t.irqSelf)}
	for _, al := range aliases {
		a.Post = append(a.Post, t.row(al.Post, t.alias.spelling(al.Post), t.alias.self[al.Post], t.alias.cum[al.Post]))
	}
	var other, top []SymbolShare
	for key, cum := range t.sym.cum {
		r := t.row("", t.sym.spelling(key), t.sym.self[key], cum)
		if _, ok := aliasIndex[key]; !ok && r.Self > 0 {
			other = append(other, r)
		}
		if !entryFrames[key] {
			top = append(top, r)
		}
	}
	a.Other = firstN(other, n, func(r SymbolShare) int64 { return r.Self })
	a.Top = firstN(top, n, func(r SymbolShare) int64 { return r.Cum })
	return a
}

// firstN sorts rows by by() descending (then cum, then name) and keeps n.
func firstN(rows []SymbolShare, n int, by func(SymbolShare) int64) []SymbolShare {
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if by(a) != by(b) {
			return by(a) > by(b)
		}
		if a.Cum != b.Cum {
			return a.Cum > b.Cum
		}
		return a.Symbol < b.Symbol
	})
	if len(rows) > n {
		rows = rows[:n]
	}
	return rows
}
