package kallsyms

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParse(t *testing.T) {
	in := strings.Join([]string{
		"ffffffff81000000 T _text",
		"ffffffff816e41f0 t __pfx_anon_pipe_write",
		"ffffffff816e4200 T anon_pipe_write",
		"ffffffff82400010 D _etext",
		"ffffffffc0a10010 t nft_do_chain\t[nf_tables]",
		"0000000000000000 W restricted_weak",
		"",
		"garbage",
		"ffff x",
		"zzzz T not_hex",
		"ffffffff81000000 TT two_letters",
		"ffffffffc0a10010 t bad_module\tnf_tables",
	}, "\n")
	var got []Symbol
	if err := Parse(strings.NewReader(in), func(s Symbol) { got = append(got, s) }); err != nil {
		t.Fatal(err)
	}
	want := []Symbol{
		{0xffffffff81000000, 'T', "_text", ""},
		{0xffffffff816e41f0, 't', "__pfx_anon_pipe_write", ""},
		{0xffffffff816e4200, 'T', "anon_pipe_write", ""},
		{0xffffffff82400010, 'D', "_etext", ""},
		{0xffffffffc0a10010, 't', "nft_do_chain", "nf_tables"},
		{0, 'W', "restricted_weak", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d symbols %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("symbol %d: got %+v, want %+v", i, got[i], want[i])
		}
		if text := want[i].Type != 'D'; got[i].Text() != text {
			t.Errorf("%s: Text() = %v, want %v", got[i].Name, got[i].Text(), text)
		}
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("boom")
	err := Parse(iotest.ErrReader(boom), func(Symbol) { t.Error("a symbol from a failing reader") })
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want the reader's error", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("ffffffff81000000 T _text\nffffffffc0a10010 t nft_do_chain\t[nf_tables]\n0 t y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		Parse(strings.NewReader(string(data)), func(s Symbol) {
			if s.Name == "" || strings.ContainsAny(s.Name+s.Module, " \t\n") {
				t.Fatalf("symbol %+v: empty name or blanks inside", s)
			}
		})
	})
}
