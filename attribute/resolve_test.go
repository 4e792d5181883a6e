package attribute

import (
	"os"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/internal/tally"
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

// TestAliasTableOnDebianKernels checks the alias table against the
// symbol tables of Debian's 6.1 and 6.12 cloud kernels for amd64 and
// arm64 (testdata/kallsyms: the lines of each booted kernel's
// /proc/kallsyms whose name, suffixes aside, the alias table or the
// syscall entry frames name). Every symbol the table expects on a release
// is there, the post's symbols resolve to the same names on both
// architectures, and every entry frame is a real symbol of one of them.
func TestAliasTableOnDebianKernels(t *testing.T) {
	entries := map[string]bool{}
	for _, tc := range []struct {
		release string
		found   int // of the post's symbols
	}{
		{"6.1.0-57-cloud-amd64", 18},
		{"6.1.0-57-cloud-arm64", 18},
		{"6.12.118+deb12-cloud-amd64", 18},
		{"6.12.118+deb12-cloud-arm64", 18},
	} {
		b, err := os.ReadFile("testdata/kallsyms/" + tc.release)
		if err != nil {
			t.Fatal(err)
		}
		st, err := ResolveAliases(strings.NewReader(string(b)), tc.release)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, a := range st {
			if len(a.Found) > 0 {
				found++
			}
			for _, s := range a.Symbols {
				if s.Expected && !s.Present {
					t.Errorf("%s: %s/%s is expected (per the alias table) but the kernel lacks it", tc.release, a.Post, s.Name)
				}
			}
		}
		if found != tc.found {
			t.Errorf("%s: %d of the post's %d symbols found, want %d", tc.release, found, len(st), tc.found)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if f := strings.Fields(line); len(f) == 3 && tally.EntryFrames[tally.KernelName(f[2])] {
				entries[tally.KernelName(f[2])] = true
			}
		}
	}
	for name := range tally.EntryFrames {
		if !entries[name] {
			t.Errorf("entry frame %s is in none of the kernels", name)
		}
	}
	// Each post's symbol that one architecture has, the other has too
	// (the real names may differ where the compiler inlined one: arm64's
	// 6.1 and 6.12 inline __do_splice, amd64's 6.12 __wake_up_common_lock).
	for _, rel := range []string{"6.1.0-57-cloud-", "6.12.118+deb12-cloud-"} {
		has := map[string][]string{}
		for _, arch := range []string{"amd64", "arm64"} {
			b, err := os.ReadFile("testdata/kallsyms/" + rel + arch)
			if err != nil {
				t.Fatal(err)
			}
			st, err := ResolveAliases(strings.NewReader(string(b)), rel+arch)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range st {
				if len(a.Found) > 0 {
					has[a.Post] = append(has[a.Post], arch)
				}
			}
		}
		for post, archs := range has {
			if len(archs) != 2 {
				t.Errorf("%s: %s found on %v only", rel, post, archs)
			}
		}
	}
}
