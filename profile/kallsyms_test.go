package profile_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/internal/kallsyms"
	"github.com/pipelab/pipelab/internal/testenv"
	"github.com/pipelab/pipelab/profile"
)

func TestParseKallsyms(t *testing.T) {
	f, err := os.Open("testdata/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	k, err := profile.ParseKallsyms(f)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr         uint64
		name, module string
		ok           bool
	}{
		{0xffffffff816e4200, "anon_pipe_write", "", true},
		{0xffffffff816e4257, "anon_pipe_write", "", true},
		{0xffffffff816e41ff, "anon_pipe_buf_try_steal", "", true},     // __pfx_ padding
		{0xffffffffc0a10008, "__pfx_nft_do_chain", "nf_tables", true}, // first of its module
		{0xffffffff81bafa80 + 0x20, "copy_page_from_iter", "", true},
		{0xffffffff81bafbe0, "copy_page_to_iter", "", true},
		{0xffffffff81000010, "_text", "", true},  // aliases: the last listed wins
		{0xffffffff82400010, "_etext", "", true}, // D symbols are not text
		{0xffffffffc0a10020, "nft_do_chain", "nf_tables", true},
		{0xffffffffc0a20008, "ext4_file_write_iter", "ext4", true},
		{0xffffffff80000000, "", "", false},
	}
	for _, tt := range tests {
		name, module, ok := k.Lookup(tt.addr)
		if name != tt.name || module != tt.module || ok != tt.ok {
			t.Errorf("Lookup(%#x) = %q, %q, %v; want %q, %q, %v", tt.addr, name, module, ok, tt.name, tt.module, tt.ok)
		}
	}
}

func TestParseKallsymsRestricted(t *testing.T) {
	b, err := os.ReadFile("testdata/kallsyms-restricted")
	if err != nil {
		t.Fatal(err)
	}
	_, err = profile.ParseKallsyms(bytes.NewReader(b))
	if !errors.Is(err, profile.ErrRestrictedKernel) {
		t.Fatalf("got %v, want ErrRestrictedKernel", err)
	}
	if !strings.Contains(err.Error(), "reads as zero") {
		t.Errorf("error %q does not say the addresses read as zero", err)
	}
}

func TestParseKallsymsEmpty(t *testing.T) {
	k, err := profile.ParseKallsyms(strings.NewReader("garbage\n\nffff x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := k.Lookup(1 << 63); ok {
		t.Error("Lookup in an empty table: got ok, want not found")
	}
}

func TestLoadKallsymsHere(t *testing.T) {
	k, err := profile.LoadKallsyms()
	if errors.Is(err, profile.ErrRestrictedKernel) {
		testenv.Require(t, err, "kernel symbols")
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"copy_page_from_iter", "copy_page_to_iter"} {
		if !kallsymsHas(t, k, want) {
			t.Errorf("this machine's kallsyms has no %s", want)
		}
	}
}

// kallsymsHas finds want's address in /proc/kallsyms and checks Lookup
// names it back.
func kallsymsHas(t *testing.T, k *profile.Kallsyms, want string) bool {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	found := false
	err = kallsyms.Parse(f, func(s kallsyms.Symbol) {
		if s.Name == want && !found {
			name, _, ok := k.Lookup(s.Addr + 1)
			found = ok && name == want
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func FuzzParseKallsyms(f *testing.F) {
	for _, name := range []string{"testdata/kallsyms", "testdata/kallsyms-restricted"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint64(0xffffffff816e4210))
	}
	f.Add([]byte("ffffffffffffffff T x\t[m]\n0 t y\n"), uint64(1))
	f.Fuzz(func(t *testing.T, data []byte, addr uint64) {
		k, err := profile.ParseKallsyms(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, profile.ErrRestrictedKernel) && !strings.Contains(err.Error(), "parse kallsyms") {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		name, _, ok := k.Lookup(addr)
		if ok && name == "" {
			t.Fatalf("Lookup(%#x): ok with an empty name", addr)
		}
	})
}
