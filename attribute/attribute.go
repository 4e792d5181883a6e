package attribute

import (
	"errors"
	"fmt"
	"sort"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/tally"
	"github.com/pipelab/pipelab/result"
)

// ErrNoKernelFrames means a profile holds no kernel frames where the
// question needs them (attribution, diff).
var ErrNoKernelFrames = errors.New("no kernel frames")

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
	// Arch is the architecture the samples came from ("amd64", "arm64";
	// "" is taken as amd64): on arm64 a cycles overflow is an ordinary
	// interrupt, held back like cpu-clock's timer.
	Arch string
}

// IRQHeld reports whether samples of event on arch wait while interrupts
// are off, so that their self time piles on irq-enable points:
// cpu-clock's timer everywhere, and the cycle counter's overflow on
// arm64, an ordinary interrupt there unless the kernel runs with
// pseudo-NMIs (irqchip.gicv3_pseudo_nmi=1, off by default); on x86 it is
// an NMI.
func IRQHeld(event, arch string) bool {
	return event == "" || event == "cpu-clock" || arch == "arm64"
}

// TopN is Top, or 10 when Top is 0 or less.
func (o Options) TopN() int {
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

// Profile shares out each role's time among the post's kernel symbols
// and the other kernel symbols. Roles come from the "role" label (writer
// first, then reader, then any other); samples without it form the role
// "all". A profile without kernel frames yields a *FileError wrapping
// errNoKernelFrames.
func Profile(p *pprof.Profile, opt Options) ([]Attribution, error) {
	idx, err := tally.ValueIndex(p, opt.SampleType)
	if err != nil {
		return nil, err
	}
	if !tally.HasKernelFrames(p) {
		return nil, &result.FileError{Op: "attribute", Err: fmt.Errorf("%w (no frame under a [kernel.kallsyms] mapping or at a kernel address; profile with pipelab profile as root or with kernel.perf_event_paranoid<=1 and kernel.kptr_restrict=0)", ErrNoKernelFrames)}
	}
	var out []Attribution
	for _, role := range tally.Roles(p) {
		t := tally.New(p, role, idx)
		out = append(out, attribution(t, role, tally.TypeName(p.SampleType[idx]), opt.TopN()))
	}
	return out, nil
}

// row is one symbol's values and shares of t's total.
func row(t *tally.Tally, post, symbol string, self, cum int64) SymbolShare {
	return SymbolShare{Post: post, Symbol: symbol, Self: self, Cum: cum, SelfShare: t.Share(self), CumShare: t.Share(cum)}
}

// attribution is where t's role time went: the post's symbols, the
// others by self time and the top ones by inclusive time.
func attribution(t *tally.Tally, role, sampleType string, n int) Attribution {
	a := Attribution{Role: role, SampleType: sampleType, Total: t.Total, Samples: t.Samples, IRQEnableSelf: t.Share(t.IRQSelf)}
	for _, al := range tally.Aliases {
		a.Post = append(a.Post, row(t, al.Post, t.Post.Spelling(al.Post), t.Post.Self[al.Post], t.Post.Cum[al.Post]))
	}
	var other, top []SymbolShare
	for key, cum := range t.Sym.Cum {
		r := row(t, "", t.Sym.Spelling(key), t.Sym.Self[key], cum)
		if _, ok := tally.AliasIndex[key]; !ok && r.Self > 0 {
			other = append(other, r)
		}
		if !tally.EntryFrames[key] {
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
