package attribute

import (
	"math"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/internal/tally"
)

// TestClaimsUseTheAliasTable: every function a claim names is a post
// symbol of the alias table, so it is found on any kernel the table
// knows.
func TestClaimsUseTheAliasTable(t *testing.T) {
	posts := map[string]bool{}
	for _, a := range tally.Aliases {
		posts[a.Post] = true
	}
	for _, c := range claims {
		for _, s := range append([]string{c.Within}, c.Symbols...) {
			if !posts[s] {
				t.Errorf("claim %s names %s, which is not a post symbol of Aliases", c.Mode, s)
			}
		}
		if !strings.Contains(c.Words, "`") {
			t.Errorf("claim %s: Words name no function in `backquotes`", c.Mode)
		}
	}
}

// TestVerdictsOnCapturedSteps checks the post's claims against the steps
// captured on this VM: the write step's copying and allocating is not
// what dominates here (its writer sleeps in schedule), while the huge
// step's waiting and waking is, and the busy loop does not sleep.
func TestVerdictsOnCapturedSteps(t *testing.T) {
	for _, c := range []struct {
		mode    string
		holds   bool
		low     float64 // Share is above
		high    float64 // and below
		instead string
	}{
		{"write", false, 0.30, 0.40, "schedule"},
		{"vmsplice", false, 0.15, 0.25, "wait_for_space"},
		{"splice", false, 0.20, 0.35, "wait_for_space"},
		{"huge", true, 0.65, 0.80, ""},
		{"busy", true, 0, 0.01, "__mutex_lock.constprop.0"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			v := CheckClaim(c.mode, fixture.Profile(t, c.mode), Options{})
			if v == nil || !v.Checked {
				t.Fatalf("got %+v, want a checked verdict", v)
			}
			if v.Holds != c.holds {
				t.Errorf("holds: got %v, want %v (%s)", v.Holds, c.holds, v.Sentence())
			}
			if v.Share < c.low || v.Share > c.high {
				t.Errorf("share: got %.3f, want %.2f..%.2f", v.Share, c.low, c.high)
			}
			if !(v.Low <= v.Share && v.Share <= v.High) || v.High-v.Low > 0.2 {
				t.Errorf("interval %.3f..%.3f does not hold the share %.3f tightly", v.Low, v.High, v.Share)
			}
			if c.instead != "" && v.Instead != c.instead {
				t.Errorf("instead: got %s, want %s", v.Instead, c.instead)
			}
			want := differsText
			if c.holds {
				want = holdsText
			}
			if !strings.HasPrefix(v.Sentence(), want+": ") {
				t.Errorf("sentence %q: want it to start with %q", v.Sentence(), want)
			}
		})
	}
}

// TestVerdictUnchecked: a step whose writer never enters the claim's
// syscall cannot be checked, and says why.
func TestVerdictUnchecked(t *testing.T) {
	v := CheckClaim("write", fixture.Profile(t, "splice"), Options{})
	if v.Checked {
		t.Fatalf("the write claim checked on a splice profile: %s", v.Sentence())
	}
	if want := "cannot be checked: the writer's stacks never pass through pipe_write (anon_pipe_write)"; v.Sentence() != want {
		t.Errorf("got %q\nwant %q", v.Sentence(), want)
	}
	if CheckClaim("write-huge", fixture.Profile(t, "write"), Options{}) != nil {
		t.Error("a verdict for write-huge, about which the post claims nothing")
	}
}

func TestWilson(t *testing.T) {
	for _, c := range []struct {
		k, n   int64
		lo, hi float64
	}{
		{50, 100, 0.4038, 0.5962},
		{0, 79, 0, 0.0463},
		{10, 10, 0.7225, 1},
	} {
		lo, hi := wilson(c.k, c.n)
		if math.Abs(lo-c.lo) > 1e-3 || math.Abs(hi-c.hi) > 1e-3 {
			t.Errorf("wilson(%d, %d): got %.4f..%.4f, want %.4f..%.4f", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
}

// TestVerdictIRQEnableInstead: when the time the claim leaves sits on an
// irq-enable point directly under the claim's syscall (as cpu-clock
// samples in this guest put a wake-up's interrupts-off time), the
// verdict says so and names the next callee; under cycles it does not.
func TestVerdictIRQEnableInstead(t *testing.T) {
	folded := []byte(`writer;main;ksys_write_[k];vfs_write_[k];anon_pipe_write_[k];_raw_spin_unlock_irqrestore_[k] 60
writer;main;ksys_write_[k];vfs_write_[k];anon_pipe_write_[k];copy_page_from_iter_[k];_copy_from_iter_[k] 25
writer;main;ksys_write_[k];vfs_write_[k];anon_pipe_write_[k];schedule_[k];__schedule_[k] 15
`)
	p := fixture.Build(t, "write", folded)
	v := CheckClaim("write", p, Options{})
	if v == nil || !v.Checked || v.Holds {
		t.Fatalf("got %+v, want a checked verdict that differs", v)
	}
	if v.Instead != "_raw_spin_unlock_irqrestore" || !v.InsteadIRQEnable || v.Next != "schedule" {
		t.Fatalf("instead %q (irq-enable %v), next %q: want _raw_spin_unlock_irqrestore, true, schedule", v.Instead, v.InsteadIRQEnable, v.Next)
	}
	want := "differs: copy_page_from_iter and __alloc_pages (copy_page_from_iter 25.0%) take 25.0% (95% CI 17.5%–34.3%, 100 samples) of anon_pipe_write in the writer (the post: 75.9%); _raw_spin_unlock_irqrestore dominates instead with 60.0%, an irq-enable point: cpu-clock fires only once interrupts are back on, so it holds the time a callee of anon_pipe_write spent with interrupts off (in a pipe, typically waking the other side), and that callee is missing from the stack; --event cycles, where a PMU exists, puts it in place; the next is schedule with 15.0%"
	if got := v.Sentence(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	c := CheckClaim("write", p, Options{Event: "cycles"})
	if c.InsteadIRQEnable || c.Next != "" || strings.Contains(c.Sentence(), "irq-enable") {
		t.Errorf("sampled with cycles, the verdict still blames the timer: %s", c.Sentence())
	}
}

// TestVerdictUntold: a verdict whose interval holds the share its claim
// turns on is not told, whatever the share; one whose interval lies on
// one side is.
func TestVerdictUntold(t *testing.T) {
	write, _ := claimFor("write")
	busy, _ := claimFor("busy")
	for _, c := range []struct {
		claim    Claim
		share    float64
		hits, n  int64
		want     string
		wantTail string
	}{
		{write, 1, 2, 2, untoldText, "; the interval holds the 50.0% the claim turns on"},
		{write, 0.479, 795, 1660, untoldText, "; the interval holds the 50.0% the claim turns on"},
		{write, 0.35, 350, 1000, differsText, ""},
		{write, 0.7, 70, 100, holdsText, ""},
		{busy, 0.054, 4, 74, untoldText, "; the interval holds the 5.0% the claim turns on"},
		{busy, 0.001, 1, 1000, holdsText, "; nobody sleeps"},
	} {
		v := &Verdict{Claim: c.claim, Checked: true, WithinSymbol: "f", Share: c.share, Samples: c.n, Hits: c.hits}
		v.Low, v.High = wilson(c.hits, c.n)
		if c.claim.Absent {
			v.Holds = v.Share <= MaxAbsentShare
		} else {
			v.Holds = v.Share >= MinClaimShare
		}
		if v.Outcome() != c.want {
			t.Errorf("%s %d of %d (%.3f–%.3f): outcome %q, want %q", c.claim.Mode, c.hits, c.n, v.Low, v.High, v.Outcome(), c.want)
		}
		if c.wantTail != "" && !strings.HasSuffix(v.Sentence(), c.wantTail) {
			t.Errorf("%s %d of %d: sentence %q does not end with %q", c.claim.Mode, c.hits, c.n, v.Sentence(), c.wantTail)
		}
	}
}
