package attribute

import (
	"fmt"
	"math"
	"sort"
	"strings"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/table"
	"github.com/pipelab/pipelab/internal/tally"
)

// Verdict is a step's Claim checked against the step's profile.
type Verdict struct {
	Claim Claim `json:"claim"`
	// Checked is false when the profile cannot test the claim; Reason
	// says why.
	Checked bool   `json:"checked"`
	Reason  string `json:"reason,omitempty"`
	// Holds says whether the claim holds on the profiled kernel.
	Holds bool `json:"holds"`
	// WithinSymbol is the real symbol of Claim.Within; WithinShare its
	// inclusive share of the role's total.
	WithinSymbol string  `json:"within_symbol,omitempty"`
	WithinShare  float64 `json:"within_share"`
	// Share is the part of Within's time whose stacks hold one of the
	// claim's symbols, 0..1; Low and High bound it: the 95% Wilson
	// interval of Hits out of Samples (the samples in Within, and those
	// holding a claimed symbol), the sampling error alone, taking the
	// samples as independent.
	Share   float64 `json:"share"`
	Low     float64 `json:"low"`
	High    float64 `json:"high"`
	Samples int64   `json:"samples"`
	Hits    int64   `json:"hits"`
	// Parts are the claim's symbols seen, each with its real spelling and
	// its inclusive share of Within, most first.
	Parts []VerdictPart `json:"parts,omitempty"`
	// Instead is the callee of Within that takes the most of the time the
	// claim's symbols leave, and InsteadShare its share of Within: what
	// dominates when the claim differs, what is left when nobody sleeps.
	Instead      string  `json:"instead,omitempty"`
	InsteadShare float64 `json:"instead_share"`
	// InsteadIRQEnable is set when Instead is an irq-enable point (such
	// as _raw_spin_unlock_irqrestore) in a profile sampled with
	// cpu-clock: that timer fires only once interrupts are back on, so
	// the time a callee of Within spent with interrupts off is charged to
	// the point, and the callee is missing from the stack. Next is then
	// the largest other callee and NextShare its share of Within.
	InsteadIRQEnable bool    `json:"instead_irq_enable,omitempty"`
	Next             string  `json:"next,omitempty"`
	NextShare        float64 `json:"next_share,omitempty"`
}

// VerdictPart is one symbol of a claim as the profile shows it.
type VerdictPart struct {
	Post   string  `json:"post"`
	Symbol string  `json:"symbol"`
	Share  float64 `json:"share"`
}

// claimFor returns the post's claim about mode, if it makes one.
func claimFor(mode string) (Claim, bool) {
	for _, c := range claims {
		if c.Mode == mode {
			return c, true
		}
	}
	return Claim{}, false
}

// CheckClaim tests the post's claim about mode against p (a profile with
// role labels, or one role's profile). It returns nil when the post
// makes no claim about the mode.
func CheckClaim(mode string, p *pprof.Profile, opt Options) *Verdict {
	c, ok := claimFor(mode)
	if !ok {
		return nil
	}
	v := &Verdict{Claim: c}
	idx, err := tally.ValueIndex(p, opt.SampleType)
	if err != nil {
		v.Reason = err.Error()
		return v
	}
	role := c.Role
	if !hasRole(p, role) {
		role = "all" // a one-role profile without labels
	}
	w := newClaimWalk(c)
	count := tally.FindType(p, "samples/count")
	var total int64
	for _, s := range p.Sample {
		if tally.SampleRole(s) != role {
			continue
		}
		n := int64(1)
		if count >= 0 {
			n = s.Value[count]
		}
		total += s.Value[idx]
		w.add(tally.Frames(s), s.Value[idx], n)
	}
	w.verdict(v, total, IRQHeld(opt.Event, opt.Arch))
	return v
}

func hasRole(p *pprof.Profile, role string) bool {
	for _, s := range p.Sample {
		if tally.SampleRole(s) == role {
			return true
		}
	}
	return false
}

// claimWalk accumulates, over a role's samples, the time in a claim's
// Within frame and how it splits.
type claimWalk struct {
	c        Claim
	symbols  map[string]bool // post names of the claim
	within   int64
	samples  int64
	hits     int64
	claimed  int64
	spelling tally.Counts     // Within's real spelling, under the key "within"
	parts    tally.Counts     // claimed symbols by post name
	callees  map[string]int64 // unclaimed time by Within's callee
	irq      map[string]bool  // callees that are irq-enable points
}

func newClaimWalk(c Claim) *claimWalk {
	w := &claimWalk{c: c, symbols: map[string]bool{}, spelling: tally.NewCounts(), parts: tally.NewCounts(), callees: map[string]int64{}, irq: map[string]bool{}}
	for _, s := range c.Symbols {
		w.symbols[s] = true
	}
	return w
}

// postName is the alias-table name of a kernel frame, or "".
func postName(f tally.Frame) string {
	if i, ok := tally.AliasIndex[f.Key]; ok && f.Kernel {
		return tally.Aliases[i].Post
	}
	return ""
}

func (w *claimWalk) add(fs []tally.Frame, v, n int64) {
	at := -1
	for i := len(fs) - 1; i >= 0; i-- { // root first: the outermost Within
		if postName(fs[i]) == w.c.Within {
			at = i
			break
		}
	}
	if at < 0 {
		return
	}
	w.within += v
	w.samples += n
	w.spelling.Spell("within", fs[at].Name, v)
	seen := map[string]bool{}
	for _, f := range fs[:at] {
		if p := postName(f); w.symbols[p] && !seen[p] {
			seen[p] = true
			w.parts.Cum[p] += v
			w.parts.Spell(p, f.Name, v)
		}
	}
	if len(seen) > 0 {
		w.claimed += v
		w.hits += n
		return
	}
	callee := "(self)"
	if at > 0 {
		callee = fs[at-1].Name
		if fs[at-1].Kernel && tally.IRQEnablePoints[fs[at-1].Key] {
			w.irq[callee] = true
		}
	}
	w.callees[callee] += v
}

// verdict fills v from the walk; cpuClock says the samples came from the
// cpu-clock timer, which skews onto irq-enable points.
func (w *claimWalk) verdict(v *Verdict, total int64, cpuClock bool) {
	c := w.c
	if w.within <= 0 {
		v.Reason = fmt.Sprintf("the %s's stacks never pass through %s", c.Role, aliasNames(c.Within))
		return
	}
	v.Checked = true
	v.WithinSymbol = w.spelling.Spelling("within")
	v.WithinShare = float64(w.within) / float64(total)
	v.Share = float64(w.claimed) / float64(w.within)
	v.Samples, v.Hits = w.samples, w.hits
	v.Low, v.High = wilson(w.hits, w.samples)
	for _, s := range c.Symbols {
		if cum := w.parts.Cum[s]; cum > 0 {
			v.Parts = append(v.Parts, VerdictPart{Post: s, Symbol: w.parts.Spelling(s), Share: float64(cum) / float64(w.within)})
		}
	}
	sort.SliceStable(v.Parts, func(i, j int) bool { return v.Parts[i].Share > v.Parts[j].Share })
	v.Instead, v.InsteadShare = w.largestCallee("")
	if cpuClock && w.irq[v.Instead] {
		v.InsteadIRQEnable = true
		v.Next, v.NextShare = w.largestCallee(v.Instead)
	}
	if c.Absent {
		v.Holds = v.Share <= MaxAbsentShare
	} else {
		v.Holds = v.Share >= MinClaimShare
	}
}

// largestCallee is the callee of Within, other than skip, with the most
// unclaimed time, and its share of Within; ties go to the first name.
func (w *claimWalk) largestCallee(skip string) (string, float64) {
	var best string
	var most int64
	for name, t := range w.callees {
		if name == skip {
			continue
		}
		if t > most || (t == most && name < best) {
			best, most = name, t
		}
	}
	if best == "" {
		return "", 0
	}
	return best, float64(most) / float64(w.within)
}

// aliasNames spells a post symbol with the names it has on other kernels:
// "pipe_write (anon_pipe_write, ...)".
func aliasNames(post string) string {
	i, ok := tally.AliasIndex[post]
	if !ok {
		return post
	}
	var other []string
	for _, s := range tally.Aliases[i].Symbols {
		if s.Name != post {
			other = append(other, s.Name)
		}
	}
	if len(other) == 0 {
		return post
	}
	return post + " (" + strings.Join(other, ", ") + ")"
}

// wilson is the 95% Wilson score interval of the proportion k/n.
func wilson(k, n int64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	const z = 1.959964
	p, fn := float64(k)/float64(n), float64(n)
	d := 1 + z*z/fn
	mid := (p + z*z/(2*fn)) / d
	half := z * math.Sqrt(p*(1-p)/fn+z*z/(4*fn*fn)) / d
	return math.Max(0, mid-half), math.Min(1, mid+half)
}

// Verdict texts.
const (
	holdsText     = "holds on this kernel"
	differsText   = "differs"
	uncheckedText = "cannot be checked"
	untoldText    = "not told by so few samples"
)

// Outcome is holdsText, differsText, uncheckedText, or untoldText when
// the interval holds the claim's threshold.
func (v *Verdict) Outcome() string {
	switch {
	case !v.Checked:
		return uncheckedText
	case !v.Told():
		return untoldText
	case v.Holds:
		return holdsText
	}
	return differsText
}

// Told reports whether the samples tell the outcome: the interval
// [Low, High] lies wholly on one side of the claim's threshold
// (MinClaimShare, or MaxAbsentShare for an Absent claim). From a few
// samples the interval is wide and holds the threshold, whatever the
// share; Holds then goes by the share alone, and the outcome is
// untoldText.
func (v *Verdict) Told() bool {
	t := v.threshold()
	return v.Checked && !(v.Low < t && t < v.High)
}

// threshold is the share the claim turns on.
func (v *Verdict) threshold() float64 {
	if v.Claim.Absent {
		return MaxAbsentShare
	}
	return MinClaimShare
}

// Figures says what the verdict rests on, in one sentence without the
// outcome: "copy_page_from_iter and __alloc_pages (as alloc_pages_noprof)
// take 33% (95% CI 30–37%, 700 samples) of anon_pipe_write in the writer
// (the post: 76%); schedule dominates instead with 30%".
func (v *Verdict) Figures() string { return v.figures(func(s string) string { return s }) }

// figures is Figures with every function name passed through name (code
// spans in Markdown).
func (v *Verdict) figures(name func(string) string) string {
	c := v.Claim
	if !v.Checked {
		return v.Reason
	}
	var parts []string
	for _, p := range v.Parts {
		real, _, _ := strings.Cut(p.Symbol, ", ") // the spelling with the most time
		parts = append(parts, fmt.Sprintf("%s %s", name(real), table.ShortPercent(p.Share)))
	}
	var names []string
	for _, s := range c.Symbols {
		names = append(names, name(s))
	}
	what := joinAnd(names)
	if len(parts) > 0 {
		what += " (" + strings.Join(parts, ", ") + ")"
	}
	s := fmt.Sprintf("%s take %s (95%% CI %s–%s, %d samples) of %s in the %s", what, table.ShortPercent(v.Share), table.ShortPercent(v.Low), table.ShortPercent(v.High), v.Samples, name(v.WithinSymbol), c.Role)
	if c.PostShare > 0 {
		s += fmt.Sprintf(" (the post: %s)", table.ShortPercent(c.PostShare))
	}
	switch {
	case !v.Told():
		s += fmt.Sprintf("; the interval holds the %s the claim turns on", table.ShortPercent(v.threshold()))
	case c.Absent && v.Holds:
		s += "; nobody sleeps"
		if v.Instead != "" {
			s += fmt.Sprintf(", what is left is mostly %s with %s", name(v.Instead), table.ShortPercent(v.InsteadShare))
		}
	case c.Absent:
		s += fmt.Sprintf("; the %s still sleeps", c.Role)
	case !v.Holds && v.Instead != "":
		s += fmt.Sprintf("; %s dominates instead with %s", name(v.Instead), table.ShortPercent(v.InsteadShare))
		if v.InsteadIRQEnable {
			s += fmt.Sprintf(", an irq-enable point: cpu-clock fires only once interrupts are back on, so it holds the time a callee of %s spent with interrupts off (in a pipe, typically waking the other side), and that callee is missing from the stack; --event cycles, where a PMU exists, puts it in place", name(v.WithinSymbol))
			if v.Next != "" {
				s += fmt.Sprintf("; the next is %s with %s", name(v.Next), table.ShortPercent(v.NextShare))
			}
		}
	}
	return s
}

// Sentence is the verdict in one line of plain text: outcome, then the
// figures.
func (v *Verdict) Sentence() string { return v.Outcome() + ": " + v.Figures() }

// PlainWords is the claim in the post's words, as plain text.
func (c Claim) PlainWords() string { return strings.ReplaceAll(c.Words, "`", "") }

// MarkdownFigures is Figures for Markdown: names as code spans.
func (v *Verdict) MarkdownFigures() string { return v.figures(table.Code) }

// joinAnd joins names as "a, b and c".
func joinAnd(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
