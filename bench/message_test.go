package bench

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMessagesSpellNoFlag reads bench's source: no string literal outside
// the tests, and so no error, warning or other message bench makes,
// spells a flag of the command line ("--"); they name Options' fields as
// fields of a Message and cmd/pipelab renders the flag. A literal that is "--" alone
// is the end of a program's options (sh -c -- CMD), not a flag.
func TestMessagesSpellNoFlag(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && s != "--" && strings.Contains(s, "--") {
				t.Errorf("%s: %q spells a flag", fset.Position(lit.Pos()), s)
			}
			return true
		})
	}
}

// TestFieldsRendered renders a warning, an option error and a stalled
// child's error with Go names and with a command's names; braces in a
// command line or a kernel error are words like any other.
func TestFieldsRendered(t *testing.T) {
	flag := func(f string) string { return "--" + strings.ToLower(f) }
	ce := &ChildError{Role: "reader", ExitStatus: -1, Stalled: time.Second}
	w := warn("before ", field("Bytes"), " ", "2MiB")
	oe := &OptionError{Fields: on("PinWriter", "PinReader"), Value: "0,1", Problem: say(errors.New("sched_getaffinity: {odd}")),
		Remedy: say("drop ", field("Verify"), " or ", field("Gift"))}
	late := lateWarning("reader", "awk '{n++}' {Bytes}", "the writer closing the pipe")
	for _, c := range []struct{ got, want string }{
		{ce.Error(), "reader: made no progress for 1s (Timeout)"},
		{ce.Format(flag), "reader: made no progress for 1s (--timeout)"},
		{w.String(), "before Bytes 2MiB"},
		{w.Format(flag), "before --bytes 2MiB"},
		{oe.Error(), "PinWriter,PinReader 0,1: sched_getaffinity: {odd} (drop Verify or Gift)"},
		{oe.Format(func(string) string { return "--pin" }), "--pin 0,1: sched_getaffinity: {odd} (drop --pin or --pin)"},
		{late.Format(flag), `reader command "awk '{n++}' {Bytes}" did not exit within 10s of the writer closing the pipe: stopped it (SIGTERM, SIGKILL 2s later)`},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
