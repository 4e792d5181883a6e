package attribute

import (
	"fmt"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/tally"
	"github.com/pipelab/pipelab/result"
)

// pageBytes is the size of the pages get_user_pages_fast hands out one
// struct page for, and that the pipe allocates: 4 KiB on x86-64, also
// inside a huge page.
const pageBytes = 4096

// Derived is a figure the post reasons with, worked out from a step's
// samples: the inclusive sampled time of one of the post's functions in a
// role, over the bytes or pages the profiled transfers moved. It carries
// the sampling error of that time: Low and High come from the 95% Wilson
// interval of the function's share of the role's samples, times the
// role's total.
type Derived struct {
	Role string `json:"role"`
	// Post is the post's name for the function, Symbol its real name.
	Post   string `json:"post"`
	Symbol string `json:"symbol"`
	// Per says what Value is per: "4 KiB page" or "GiB".
	Per string `json:"per"`
	// Value, Low and High are nanoseconds per Per.
	Value float64 `json:"ns"`
	Low   float64 `json:"low_ns"`
	High  float64 `json:"high_ns"`
	// Samples is how many samples held the function; Units how many Per
	// the profiled transfers moved.
	Samples int64   `json:"samples"`
	Units   float64 `json:"units"`
	// About says what the figure means.
	About string `json:"about"`
}

// derivedFigures are the figures Derive computes, where they apply: the
// role, the post's function, per what, and what it means.
var derivedFigures = []struct {
	role, post string
	perPage    bool
	about      string
}{
	{"writer", "get_user_pages_fast", true, "time to find and pin one 4 KiB page of the writer's buffer (a huge page is pinned as its 4 KiB struct pages)"},
	{"writer", "copy_page_from_iter", false, "time the writer spends copying a GiB into the pipe's pages"},
	{"reader", "copy_page_to_iter", false, "time the reader spends copying a GiB out of the pipe's pages"},
	{"writer", "__alloc_pages", true, "time allocating pipe pages per 4 KiB page written (an upper bound per allocation: the pipe reuses a freed page when it has one)"},
}

// Derive works out the derived figures that apply to a step from its
// profile p (role labels, cpu/nanoseconds and samples/count): those whose
// function has samples in the role. It returns none when p lacks the two
// sample types, the step moved no bytes or had no pipe (a ring's futex
// pins pages with get_user_pages_fast too, but not per byte moved).
func Derive(s result.Step, p *pprof.Profile) []Derived {
	ns, count := tally.FindType(p, "cpu/nanoseconds"), tally.FindType(p, "samples/count")
	bytes := profiledBytes(s)
	if ns < 0 || count < 0 || bytes <= 0 || s.Transport != "" && s.Transport != "pipe" {
		return nil // the figures are about a pipe's pages
	}
	var out []Derived
	for _, f := range derivedFigures {
		if !hasRole(p, f.role) {
			continue
		}
		tn, tc := tally.New(p, f.role, ns), tally.New(p, f.role, count)
		k := tc.Post.Cum[f.post]
		if k <= 0 || tc.Total <= 0 {
			continue
		}
		d := Derived{Role: f.role, Post: f.post, Symbol: tn.Post.Spelling(f.post), Per: "GiB", Units: float64(bytes) / gib, Samples: k, About: f.about}
		if f.perPage {
			d.Per, d.Units = "4 KiB page", float64(bytes)/pageBytes
		}
		lo, hi := wilson(k, tc.Total)
		d.Value = float64(tn.Post.Cum[f.post]) / d.Units
		d.Low, d.High = lo*float64(tn.Total)/d.Units, hi*float64(tn.Total)/d.Units
		out = append(out, d)
	}
	return out
}

// profiledBytes is how many bytes the profiled transfers of s moved: with
// an unprofiled baseline interleaved, Cost.Runs transfers; else every
// run.
func profiledBytes(s result.Step) int64 {
	runs := len(s.Runs)
	if s.Cost != nil && s.Cost.Runs > 0 {
		runs = s.Cost.Runs
	}
	if runs == 0 {
		runs = max(s.Repeat, 1)
	}
	return s.Bytes * int64(runs)
}

// String is the figure in one line: "writer: get_user_pages_fast (as
// gup_fast_fallback) 51ns per 4 KiB page (95% CI 45–58ns, 120 samples
// over 262144 pages)".
func (d Derived) String() string { return d.Text(func(s string) string { return s }) }

// Text is the figure in one sentence, every function name passed
// through name (table.Code for Markdown).
func (d Derived) Text(name func(string) string) string {
	sym := name(d.Post)
	if real := firstSpelling(d.Symbol); tally.KernelName(real) != d.Post {
		sym += " (as " + name(real) + ")"
	}
	units := fmt.Sprintf("%.0f pages", d.Units)
	if d.Per == "GiB" {
		units = fmt.Sprintf("%.2f GiB", d.Units)
	}
	return fmt.Sprintf("%s: %s %s per %s (95%% CI %s–%s, %d samples over %s)", d.Role, sym, nsFigure(d.Value), d.Per, nsFigure(d.Low), nsFigure(d.High), d.Samples, units)
}

// nsFigure formats nanoseconds with three significant digits.
func nsFigure(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.3gs", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.3gms", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gµs", v/1e3)
	}
	return fmt.Sprintf("%.3gns", v)
}

// firstSpelling is the spelling with the most time of a joined spelling
// "a, b".
func firstSpelling(s string) string {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == ',' && s[i+1] == ' ' {
			return s[:i]
		}
	}
	return s
}
