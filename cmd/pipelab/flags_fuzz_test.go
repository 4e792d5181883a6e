package main

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/bench"
)

// FuzzRunFlags feeds arbitrary command lines to run's flag parsing and
// option validation: they must never panic, and every rejection must be a
// one-line usage error (exit status 2) that starts with the flag or the
// command it concerns.
func FuzzRunFlags(f *testing.F) {
	for _, s := range []string{
		"--mode splice --bytes 1GiB",
		"--buf-size 1000 --mode vmsplice",
		"--pin 0,7",
		"--pipe-size 4MiB",
		"--bytes -5",
		"--repeat 0 --timeout -1s",
		"--check-huge",
		"--mode busy --poll",
		"--verify --rewrite-after-splice --mode write",
		"--bytes 18446744073709551615",
		"--buf-size 1.5GiB --bytes 10G --pin none",
		"extra --bytes=1GiB -- --busy",
		"---x --repeat 99999999999999999999",
		"--bytes= --busy=maybe -h",
	} {
		f.Add(s)
	}
	env := &cli{stdout: io.Discard, stderr: io.Discard}
	f.Fuzz(func(t *testing.T, line string) {
		o := bench.DefaultOptions()
		o.Mode = "write"
		fs := newFlagSet("run", "[flags]", "")
		fs.StringVar(&o.Mode, "mode", o.Mode, "")
		runFlags(fs, &o)
		err := fs.parse(env, strings.Fields(line))
		if errors.Is(err, errHelp) {
			return
		}
		if err == nil {
			if err = checkArgs(fs); err == nil {
				if _, ok := bench.LookupMode(o.Mode); !ok {
					return // selectModes' job, tested in TestBadInput
				}
				err = validate(o)
			}
		}
		if err == nil {
			return
		}
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Fatalf("%q: %v is not a usage error", line, err)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Fatalf("%q: message has more than one line: %q", line, msg)
		}
		if !strings.HasPrefix(msg, "--") && !strings.HasPrefix(msg, "run: ") {
			t.Fatalf("%q: message %q names neither a flag nor the command", line, msg)
		}
	})
}
