package attribute

import (
	"bytes"
	"errors"
	"testing"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/internal/tally"
	"github.com/pipelab/pipelab/result"
)

func TestAttributionGolden(t *testing.T) {
	for _, mode := range fixture.Modes {
		t.Run(mode, func(t *testing.T) {
			as, err := Profile(fixture.Profile(t, mode), Options{Top: 8})
			if err != nil {
				t.Fatal(err)
			}
			var txt, md, js bytes.Buffer
			if err := WriteText(&txt, as); err != nil {
				t.Fatal(err)
			}
			if err := WriteMarkdown(&md, as); err != nil {
				t.Fatal(err)
			}
			if err := WriteJSON(&js, as); err != nil {
				t.Fatal(err)
			}
			fixture.Golden(t, "attribute."+mode+".txt", txt.Bytes())
			fixture.Golden(t, "attribute."+mode+".md", md.Bytes())
			fixture.Golden(t, "attribute."+mode+".json", js.Bytes())
		})
	}
}

// share returns the post row of role in as.
func postRow(t *testing.T, as []Attribution, role, post string) SymbolShare {
	t.Helper()
	for _, a := range as {
		if a.Role != role {
			continue
		}
		for _, r := range a.Post {
			if r.Post == post {
				return r
			}
		}
	}
	t.Fatalf("no row %s for role %s", post, role)
	return SymbolShare{}
}

func TestAttributionWhatThePostSaw(t *testing.T) {
	write, err := Profile(fixture.Profile(t, "write"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{write[0].Role, write[1].Role}; got[0] != "writer" || got[1] != "reader" || len(write) != 2 {
		t.Fatalf("roles = %v, want [writer reader]", got)
	}
	tests := []struct {
		as         []Attribution
		role, post string
		symbol     string
		minCum     float64
	}{
		{write, "writer", "pipe_write", "anon_pipe_write", 0.5},
		{write, "writer", "copy_page_from_iter", "copy_page_from_iter", 0.03},
		{write, "writer", "__alloc_pages", "alloc_pages_noprof, __alloc_frozen_pages_noprof", 0.1},
		{write, "reader", "pipe_read", "anon_pipe_read", 0.5},
		{write, "reader", "copy_page_to_iter", "copy_page_to_iter", 0.1},
	}
	for _, tt := range tests {
		r := postRow(t, tt.as, tt.role, tt.post)
		if r.Symbol != tt.symbol {
			t.Errorf("%s %s matched %q, want %q", tt.role, tt.post, r.Symbol, tt.symbol)
		}
		if r.CumShare < tt.minCum {
			t.Errorf("%s %s cum share %.3f, want >= %.3f", tt.role, tt.post, r.CumShare, tt.minCum)
		}
	}
	splice, err := Profile(fixture.Profile(t, "splice"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := postRow(t, splice, "reader", "copy_page_to_iter"); r.Cum != 0 {
		t.Errorf("splice reader copies: copy_page_to_iter cum %d, want 0", r.Cum)
	}
	if r := postRow(t, splice, "writer", "iov_iter_get_pages"); r.Symbol != "iov_iter_get_pages2" || r.Cum == 0 {
		t.Errorf("splice writer iov_iter_get_pages = %+v, want iov_iter_get_pages2 with time", r)
	}
	if r := postRow(t, splice, "writer", "__mutex_lock"); r.Symbol != "__mutex_lock.constprop.0" {
		t.Errorf("__mutex_lock matched %q, want the real spelling __mutex_lock.constprop.0", r.Symbol)
	}
}

func TestAttributionSharesAddUp(t *testing.T) {
	p := fixture.Profile(t, "vmsplice")
	as, err := Profile(p, Options{SampleType: "samples/count"})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, s := range p.Sample {
		total += s.Value[0]
	}
	var got int64
	for _, a := range as {
		got += a.Total
		var self float64
		for _, r := range a.Post {
			if r.Self > r.Cum {
				t.Errorf("%s %s: self %d > cum %d", a.Role, r.Post, r.Self, r.Cum)
			}
			self += r.SelfShare
		}
		if self > 1 {
			t.Errorf("%s: self shares of post symbols add up to %.3f > 1", a.Role, self)
		}
	}
	if got != total {
		t.Errorf("roles' totals add up to %d samples, profile has %d", got, total)
	}
}

func TestAttributionUnlabeledProfileIsAll(t *testing.T) {
	p := fixture.Profile(t, "busy")
	p.RemoveLabel("role")
	as, err := Profile(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].Role != "all" {
		t.Fatalf("got %d roles (%v), want one role \"all\"", len(as), as)
	}
}

func TestAttributionOtherKernelMappingName(t *testing.T) {
	// perf's own conversions name the mapping "[kernel.kallsyms]_text" or
	// "vmlinux"; kernel addresses alone must also do.
	for _, name := range []string{"[kernel.kallsyms]_text", "/usr/lib/debug/boot/vmlinux", "[unknown]"} {
		p := fixture.Profile(t, "write")
		for _, m := range p.Mapping {
			if m.File == "[kernel.kallsyms]" {
				m.File = name
			}
		}
		as, err := Profile(p, Options{})
		if err != nil {
			t.Fatalf("mapping %q: %v", name, err)
		}
		if r := postRow(t, as, "writer", "pipe_write"); r.Cum == 0 {
			t.Errorf("mapping %q: pipe_write not found", name)
		}
	}
}

func TestAttributionErrors(t *testing.T) {
	user := fixture.Profile(t, "write")
	var keep []*pprof.Sample
	for _, s := range user.Sample {
		if !tally.IsKernel(s.Location[0]) && !hasKernelLoc(s) {
			keep = append(keep, s)
		}
	}
	user.Sample = keep
	user = user.Compact()
	_, err := Profile(user, Options{})
	want := "attribute: no kernel frames (no frame under a [kernel.kallsyms] mapping or at a kernel address; profile with pipelab profile as root or with kernel.perf_event_paranoid<=1 and kernel.kptr_restrict=0)"
	if err == nil || err.Error() != want {
		t.Errorf("user-only profile: got error %v, want %q", err, want)
	}
	var fe *result.FileError
	if !errors.As(err, &fe) || !errors.Is(err, ErrNoKernelFrames) {
		t.Errorf("error %v is not a *FileError wrapping ErrNoKernelFrames", err)
	}
	_, err = Profile(fixture.Profile(t, "write"), Options{SampleType: "alloc_space/bytes"})
	want = "attribute: different sample types (no sample type alloc_space/bytes; the profile has samples/count, cpu/nanoseconds)"
	if err == nil || err.Error() != want {
		t.Errorf("unknown sample type: got error %v, want %q", err, want)
	}
}

func hasKernelLoc(s *pprof.Sample) bool {
	for _, l := range s.Location {
		if tally.IsKernel(l) {
			return true
		}
	}
	return false
}
