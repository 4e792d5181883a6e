package bench

import (
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	valid := []struct {
		in   string
		want int64
	}{
		{"4096", 4096},
		{"4096B", 4096},
		{"256KiB", 256 << 10},
		{"256K", 256 << 10},
		{"256k", 256 << 10},
		{"64MiB", 64 << 20},
		{"1GiB", 1 << 30},
		{"10G", 10 << 30},
		{"10 GiB", 10 << 30},
		{"1.5GiB", 3 << 29},
		{"2TiB", 2 << 40},
		{" 8M ", 8 << 20},
	}
	for _, c := range valid {
		got, err := ParseSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, nil", c.in, got, err, c.want)
		}
	}
	hint := " (use e.g. 4096, 256KiB, 1.5GiB or 10G; units are powers of 1024)"
	invalid := []struct{ in, want string }{
		{"", `size "": not a size` + hint},
		{"0", `size "0": must be positive` + hint},
		{"0KiB", `size "0KiB": must be positive` + hint},
		{"-5", `size "-5": must be positive` + hint},
		{"-1.5G", `size "-1.5G": must be positive` + hint},
		{"abc", `size "abc": not a size` + hint},
		{"10GB", `size "10GB": not a size` + hint},
		{"KiB", `size "KiB": not a size` + hint},
		{"1.2.3", `size "1.2.3": not a size` + hint},
		{"0.5", `size "0.5": not a whole number of bytes` + hint},
		{"1e9", `size "1e9": not a size` + hint},
		{"9999999999999999999", `size "9999999999999999999": too large` + hint},
		{"9000000000T", `size "9000000000T": too large` + hint},
	}
	for _, c := range invalid {
		got, err := ParseSize(c.in)
		if err == nil {
			t.Errorf("ParseSize(%q) = %d, nil; want error %q", c.in, got, c.want)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("ParseSize(%q) error:\n got %q\nwant %q", c.in, err, c.want)
		}
	}
}

func TestFormatSize(t *testing.T) {
	cases := []struct {
		in   int64
		want string
	}{
		{262144, "256KiB"}, {4096, "4KiB"}, {1536, "1536"}, {1 << 20, "1MiB"},
		{3 << 30, "3GiB"}, {10 << 30, "10GiB"}, {5 << 40, "5TiB"}, {0, "0"}, {7, "7"},
	}
	for _, c := range cases {
		if got := FormatSize(c.in); got != c.want {
			t.Errorf("FormatSize(%d) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"4096", "256KiB", "256K", "1GiB", "10G", "1.5GiB", "0", "-1", "x", "1e3", "  2 mib "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "size ") || strings.Contains(msg, "\n") {
				t.Fatalf("ParseSize(%q) error %q: want one line starting with \"size \"", s, msg)
			}
			return
		}
		if n <= 0 {
			t.Fatalf("ParseSize(%q) = %d, want > 0", s, n)
		}
		back, err := ParseSize(FormatSize(n))
		if err != nil || back != n {
			t.Fatalf("ParseSize(FormatSize(%d)) = %d, %v; want %d", n, back, err, n)
		}
	})
}
