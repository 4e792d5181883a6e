package attribute

import (
	"os"
	"strings"
	"testing"
)

func TestResolveAliasesFixture(t *testing.T) {
	const table = `ffffffff81000000 T anon_pipe_write
ffffffff81000010 t __pfx_anon_pipe_read
ffffffff81000020 T anon_pipe_read
ffffffff81000030 T copy_page_from_iter.constprop.0
ffffffff81000040 T nvme_poll	[nvme]
`
	st, err := ResolveAliases(strings.NewReader(table), "6.18.0-1-amd64")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]AliasStatus{}
	for _, s := range st {
		got[s.Post] = s
	}
	if f := got["pipe_write"].Found; len(f) != 1 || f[0] != "anon_pipe_write" {
		t.Errorf("pipe_write found %v, want [anon_pipe_write]", f)
	}
	if f := got["copy_page_from_iter"].Found; len(f) != 1 || f[0] != "copy_page_from_iter" {
		t.Errorf("copy_page_from_iter found %v, want the suffixed symbol", f)
	}
	for _, s := range got["pipe_write"].Symbols {
		want := s.Name == "anon_pipe_write"
		if s.Expected != want {
			t.Errorf("pipe_write/%s expected on 6.18 = %v, want %v", s.Name, s.Expected, want)
		}
	}
	if _, err := ResolveAliases(strings.NewReader(""), "6.18"); err == nil {
		t.Error("empty table: got no error")
	}
}

// TestAliasTableOnThisKernel checks every name of the alias table against
// this machine's /proc/kallsyms: it is either present, or the table marks
// it absent for this kernel (outside its version range, or static and so
// possibly inlined).
func TestAliasTableOnThisKernel(t *testing.T) {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		t.Skipf("no /proc/kallsyms: %v", err)
	}
	defer f.Close()
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		t.Skipf("kernel release: %v", err)
	}
	st, err := ResolveAliases(f, strings.TrimSpace(string(rel)))
	if err != nil {
		t.Fatal(err)
	}
	present := 0
	for _, a := range st {
		for _, s := range a.Symbols {
			if s.Present {
				present++
			}
			if s.Expected && !s.Present {
				t.Errorf("%s: %s should exist on %s (per the alias table) but /proc/kallsyms lacks it", a.Post, s.Name, strings.TrimSpace(string(rel)))
			}
		}
	}
	if present == 0 {
		t.Skip("no alias symbol present: kallsyms is probably restricted (kptr_restrict) for this user")
	}
}
