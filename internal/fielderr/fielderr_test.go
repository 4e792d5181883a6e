package fielderr

import "testing"

func TestMessage(t *testing.T) {
	flags := map[string]string{"PinWriter": "--pin", "PinReader": "--pin", "Huge": "--huge", "Mode": "--mode"}
	flag := func(f string) string { return flags[f] }
	for _, c := range []struct {
		fields                 []string
		value, problem, remedy string
		name                   func(string) string
		want                   string
	}{
		{[]string{"PinWriter", "PinReader"}, "0,7", "CPU 7 is not available", "", nil,
			"PinWriter,PinReader 0,7: CPU 7 is not available"},
		{[]string{"PinWriter", "PinReader"}, "0,7", "CPU 7 is not available", "", flag,
			"--pin 0,7: CPU 7 is not available"},
		{[]string{"CheckHuge"}, "", "needs a huge-page buffer", "add {Huge} or use a -huge {Mode}", nil,
			"CheckHuge: needs a huge-page buffer (add Huge or use a -huge Mode)"},
		{[]string{"Mode"}, "busy", "{Huge} and {Huge}", "a { brace {Huge", flag,
			"--mode busy: --huge and --huge (a { brace {Huge)"},
	} {
		if got := Message(c.fields, c.value, c.problem, c.remedy, c.name); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestExpandEscape(t *testing.T) {
	flag := func(f string) string { return map[string]string{"Bytes": "--bytes"}[f] }
	cmd := `awk '{n++} END {print n}' {Bytes}`
	for _, c := range []struct {
		s    string
		name func(string) string
		want string
	}{
		{"before {Bytes} 2MiB", nil, "before Bytes 2MiB"},
		{"before {Bytes} 2MiB", flag, "before --bytes 2MiB"},
		{"command " + Escape(cmd) + " and {Bytes}", flag, "command " + cmd + " and --bytes"},
		{"{{Bytes}", flag, "{Bytes}"},
	} {
		if got := Expand(c.s, c.name); got != c.want {
			t.Errorf("Expand(%q): got %q, want %q", c.s, got, c.want)
		}
	}
}
