package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pipelab/pipelab/result"
)

// scanned is what a command line set, for TestScan.
type scanned struct {
	out, writer string
	bytes       int64
	repeat      int
	timeout     time.Duration
	busy        bool
	args        []string
}

// scanFlags defines one flag of each kind the commands use: a string
// (--out, --writer-cmd, and a one-letter -o), pipelab's own size value,
// an int, a duration and a boolean.
func scanFlags(s *scanned) *flagSet {
	fs := newFlagSet("test", "[flags] ARG...", "")
	fs.StringVar(&s.out, "out", "", "")
	fs.StringVar(&s.out, "o", "", "")
	fs.StringVar(&s.writer, "writer-cmd", "", "")
	fs.Var(sizeValue{&s.bytes}, "bytes", "")
	fs.IntVar(&s.repeat, "repeat", 0, "")
	fs.DurationVar(&s.timeout, "timeout", 0, "")
	fs.BoolVar(&s.busy, "busy", false, "")
	return fs
}

// TestScan: flags anywhere on the line, -- ends them, a value may begin
// with a dash, and every refusal is one line of ours.
func TestScan(t *testing.T) {
	const sizeHint = "(use e.g. 4096, 256KiB, 1.5GiB or 10G; units are powers of 1024)"
	for _, tc := range []struct {
		line    string
		want    scanned
		help    bool
		wantErr string
	}{
		{line: "A B --out C", want: scanned{out: "C", args: []string{"A", "B"}}},
		{line: "--out C A B", want: scanned{out: "C", args: []string{"A", "B"}}},
		{line: "A --out=C B", want: scanned{out: "C", args: []string{"A", "B"}}},
		{line: "A -out C B -o D", want: scanned{out: "D", args: []string{"A", "B"}}},
		{line: "A -- --out C", want: scanned{args: []string{"A", "--out", "C"}}},
		{line: "--out C -- -B --", want: scanned{out: "C", args: []string{"-B", "--"}}},
		{line: "- --busy", want: scanned{busy: true, args: []string{"-"}}},
		{line: "--busy A", want: scanned{busy: true, args: []string{"A"}}},
		{line: "--busy --busy=false", want: scanned{}},
		{line: "--busy=1 --repeat 0x10 --timeout=2s --bytes 1GiB", want: scanned{busy: true, repeat: 16, timeout: 2 * time.Second, bytes: 1 << 30}},
		{line: "--writer-cmd -x", want: scanned{writer: "-x"}},
		{line: "--writer-cmd=-x A", want: scanned{writer: "-x", args: []string{"A"}}},
		{line: "--writer-cmd --help", want: scanned{writer: "--help"}},
		{line: "--writer-cmd --", want: scanned{writer: "--"}},
		{line: "--writer-cmd=", want: scanned{}},
		{line: "A --help", help: true},
		{line: "-h", help: true},
		{line: "-help B", help: true},
		{line: "-- --help", want: scanned{args: []string{"--help"}}},
		{line: "--frob", wantErr: "unknown flag --frob"},
		{line: "A -frob=1", wantErr: "unknown flag --frob"},
		{line: "A B --bytes", wantErr: "flag --bytes needs a value"},
		{line: "--bytes 0x", wantErr: "--bytes 0x: not a size " + sizeHint},
		{line: "--bytes=-5", wantErr: "--bytes -5: must be positive " + sizeHint},
		{line: "--repeat 1.5", wantErr: "--repeat 1.5: not a whole number"},
		{line: "--repeat 99999999999999999999", wantErr: "--repeat 99999999999999999999: out of range"},
		{line: "--timeout 5", wantErr: "--timeout 5: not a duration (e.g. 500ms, 10s, 2m)"},
		{line: "--busy=maybe", wantErr: "--busy maybe: not true or false"},
		{line: "---x", wantErr: "bad flag syntax ---x (a flag is --name, --name value or --name=value)"},
		{line: "-=1", wantErr: "bad flag syntax -=1 (a flag is --name, --name value or --name=value)"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			var got scanned
			fs := scanFlags(&got)
			help, err := fs.scan(strings.Fields(tc.line))
			if tc.wantErr != "" {
				var ae *argError
				if !errors.As(err, &ae) || err.Error() != tc.wantErr {
					t.Fatalf("got error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if help != tc.help {
				t.Fatalf("help: got %v, want %v", help, tc.help)
			}
			if help {
				return
			}
			got.args = fs.Args()
			if got.out != tc.want.out || got.writer != tc.want.writer || got.bytes != tc.want.bytes ||
				got.repeat != tc.want.repeat || got.timeout != tc.want.timeout || got.busy != tc.want.busy ||
				!slices.Equal(got.args, tc.want.args) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if fs.NArg() != len(tc.want.args) || (len(tc.want.args) > 0 && fs.Arg(0) != tc.want.args[0]) || fs.Arg(len(tc.want.args)) != "" {
				t.Errorf("NArg %d, Arg(0) %q: do not match Args %q", fs.NArg(), fs.Arg(0), fs.Args())
			}
		})
	}
}

// TestScanSetFlags: the flags scan set are the ones the commands see as
// given on the line (setFlags, from the flag set's Visit), and no other.
func TestScanSetFlags(t *testing.T) {
	var s scanned
	fs := scanFlags(&s)
	if _, err := fs.scan([]string{"A", "--busy=false", "--writer-cmd", "-x", "--", "--out", "C"}); err != nil {
		t.Fatal(err)
	}
	got := setFlags(fs.FlagSet)
	if len(got) != 2 || !got["busy"] || !got["writer-cmd"] {
		t.Errorf("got set flags %v, want busy and writer-cmd", got)
	}
}

// TestCommandFlagValueWithDash: the real flag sets of run, profile and
// ladder take a --writer-cmd or --reader-cmd that begins with a dash,
// as the next word or after "=".
func TestCommandFlagValueWithDash(t *testing.T) {
	env := &cli{stdout: io.Discard, stderr: io.Discard}
	for _, line := range [][]string{
		{"--writer-cmd", "-x", "--reader-cmd", "-y"},
		{"--writer-cmd=-x", "--reader-cmd=-y"},
		{"--reader-cmd", "-y", "--writer-cmd=-x"},
	} {
		var cf commandFlags
		fs := newFlagSet("run", "[flags]", "")
		addCommandFlags(fs, &cf)
		if err := fs.parse(env, line); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if cf.writer != "-x" || cf.reader != "-y" || fs.NArg() != 0 {
			t.Errorf("%q: got writer %q reader %q args %q, want -x, -y and none", line, cf.writer, cf.reader, fs.Args())
		}
	}
}

// TestFlagsAnywhere runs each command with its flags after its
// arguments, and with -- before words that look like flags, as people
// type them.
func TestFlagsAnywhere(t *testing.T) {
	dir := t.TempDir()
	writeFixtureProfiles(t, dir)
	writeFixtureResults(t, dir)
	if err := os.CopyFS(filepath.Join(dir, "res2"), os.DirFS(filepath.Join(dir, "res"))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args       []string
		code       int
		stdout     string // a prefix of stdout
		stderr     string // the whole of stderr, one line
		file       string // a file the command must have written in dir
		checkStdio func(t *testing.T, stdout string)
	}{
		{args: []string{"compare", "res", "res2", "--out", "cmp"}, file: "cmp/compare.md", stdout: "folders:"},
		{args: []string{"compare", "res", "--format", "markdown", "res2", "--top", "1"}, stdout: "# "},
		{args: []string{"compare", "res", "res2", "--", "--out"}, code: 2,
			stderr: "pipelab: read results --out: no such file or directory"},
		{args: []string{"diff", "kernel.pb.gz", "kernel.pb.gz", "--format", "json", "--top", "1"}, checkStdio: decodesAsJSON},
		{args: []string{"diff", "--", "-kernel.pb.gz", "kernel.pb.gz"}, code: 2,
			stderr: "pipelab: read profile -kernel.pb.gz: no such file or directory"},
		{args: []string{"flame", "kernel.pb.gz", "-o", "k.svg", "--title", "kernel"}, file: "k.svg"},
		{args: []string{"flame", "kernel.pb.gz", "--diff", "kernel.pb.gz", "--o=d.svg"}, file: "d.svg"},
		{args: []string{"report", "res", "--frob"}, code: 2,
			stderr: "pipelab: report: unknown flag --frob (see pipelab report --help)"},
		{args: []string{"report", "--", "-res"}, code: 2,
			stderr: "pipelab: read results -res: no such file or directory"},
		{args: []string{"run", "--", "--bytes", "1GiB"}, code: 2,
			stderr: `pipelab: run: unexpected argument "--bytes" (flags start with --; see pipelab run --help)`},
		{args: []string{"profile", "extra", "--mode", "write"}, code: 2,
			stderr: `pipelab: profile: unexpected argument "extra" (flags start with --; see pipelab profile --help)`},
		{args: []string{"ladder", "--", "--help"}, code: 2,
			stderr: `pipelab: ladder: unexpected argument "--help" (flags start with --; see pipelab ladder --help)`},
		{args: []string{"gup", "extra", "--bytes", "1GiB"}, code: 2,
			stderr: `pipelab: gup: unexpected argument "extra" (flags start with --; see pipelab gup --help)`},
		{args: []string{"doctor", "--", "--json"}, code: 2,
			stderr: `pipelab: doctor: unexpected argument "--json" (flags start with --; see pipelab doctor --help)`},
		{args: []string{"run", "--writer-cmd", "-x", "--mode", "all"}, code: 2,
			stderr: "pipelab: --mode all: runs every mode, so it takes no --name, --writer-cmd or --reader-cmd (give one --mode)"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			stdout, stderr, code := pipelab(t, dir, tc.args...)
			if code != tc.code {
				t.Fatalf("exit status: got %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if tc.stderr != "" && strings.TrimSuffix(stderr, "\n") != tc.stderr {
				t.Errorf("stderr:\n got %q\nwant %q", stderr, tc.stderr)
			}
			if !strings.HasPrefix(stdout, tc.stdout) {
				t.Errorf("stdout: got %.80q, want it to start with %q", stdout, tc.stdout)
			}
			if tc.file != "" {
				if fi, err := os.Stat(filepath.Join(dir, tc.file)); err != nil || fi.Size() == 0 {
					t.Errorf("%s: %v, want a file written", tc.file, err)
				}
			}
			if tc.checkStdio != nil {
				tc.checkStdio(t, stdout)
			}
		})
	}
}

func decodesAsJSON(t *testing.T, stdout string) {
	t.Helper()
	if !json.Valid([]byte(stdout)) {
		t.Errorf("stdout is not JSON: %.200q", stdout)
	}
}

// TestHelpCommand: pipelab help COMMAND prints the command's help, as
// pipelab COMMAND --help does.
func TestHelpCommand(t *testing.T) {
	dir := t.TempDir()
	for _, c := range commands() {
		want, _, _ := pipelab(t, dir, c.name, "--help")
		got, stderr, code := pipelab(t, dir, "help", c.name)
		if code != 0 || got != want || stderr != "" {
			t.Errorf("help %s: got status %d, stdout %.60q, stderr %q; want 0 and the output of %s --help (%.60q)", c.name, code, got, stderr, c.name, want)
		}
		if !strings.HasPrefix(got, "Usage: pipelab "+c.name+" ") {
			t.Errorf("help %s: got %.60q, want its usage", c.name, got)
		}
	}
	for _, tc := range []struct {
		args         []string
		code         int
		stdout, line string
	}{
		{args: []string{"help"}, stdout: "pipelab: a lab for Linux pipe throughput"},
		{args: []string{"help", "help"}, stdout: "pipelab: a lab for Linux pipe throughput"},
		{args: []string{"help", "frob"}, code: 2, line: `pipelab: help: unknown command "frob" (want one of: run, profile, ladder, diff, flame, compare, gup, report, doctor)`},
		{args: []string{"help", "run", "profile"}, code: 2, line: "pipelab: help: want one command, got 2 (e.g. pipelab help run)"},
	} {
		stdout, stderr, code := pipelab(t, dir, tc.args...)
		if code != tc.code || !strings.HasPrefix(stdout, tc.stdout) || strings.TrimSuffix(stderr, "\n") != tc.line {
			t.Errorf("%q: got status %d, stdout %.60q, stderr %q; want %d, %q..., %q", tc.args, code, stdout, stderr, tc.code, tc.stdout, tc.line)
		}
	}
}

// TestRunWriterCommandWithDash: a --writer-cmd that begins with a dash
// is run as a command line (sh -c -- CMD), in both spellings of the flag.
func TestRunWriterCommandWithDash(t *testing.T) {
	bin := t.TempDir()
	script := "#!/bin/sh\nexec head -c 16777216 /dev/zero\n"
	if err := os.WriteFile(filepath.Join(bin, "-zeros"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, flags := range [][]string{{"--writer-cmd", "-zeros"}, {"--writer-cmd=-zeros"}} {
		args := append([]string{"run", "--bytes", "1GiB", "--repeat", "1", "--json"}, flags...)
		stdout, stderr, code := pipelab(t, t.TempDir(), args...)
		if code != 0 {
			t.Fatalf("%q: exit status %d, stderr %s", args, code, stderr)
		}
		var s result.Step
		if err := json.Unmarshal([]byte(stdout), &s); err != nil {
			t.Fatalf("%q: decode %q: %v", args, stdout, err)
		}
		if s.WriterCmd != "-zeros" || s.Bytes != 16<<20 || len(s.Commands) != 1 || s.Commands[0].Status != "exited with status 0" {
			t.Errorf("%q: got writer %q, %d bytes, commands %+v; want -zeros, 16MiB, exited with status 0", args, s.WriterCmd, s.Bytes, s.Commands)
		}
	}
}
