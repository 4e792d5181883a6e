package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/result"
)

// commandFlags are --writer-cmd, --reader-cmd and --name of run and
// profile: anybody's writer or reader on either side of pipelab's pipe.
type commandFlags struct {
	writer, reader, name string
}

func addCommandFlags(fs *flagSet, cf *commandFlags) {
	fs.StringVar(&cf.writer, "writer-cmd", "", "shell `command` (run with /bin/sh -c) whose stdout is the pipe's write end, instead of pipelab's writer;\n"+
		"pipelab's reader stops it after --bytes, closing the pipe (SIGPIPE/EPIPE), or at EOF")
	fs.StringVar(&cf.reader, "reader-cmd", "", "shell `command` whose stdin is the pipe's read end, instead of pipelab's reader;\n"+
		"pipelab's writer writes --bytes and closes the pipe (EOF)")
	fs.StringVar(&cf.name, "name", "", "`label` of the run: the mode label of its samples and its files OUT/NAME.* (default: the mode,\n"+
		"or the program name of the writer command, else of the reader command)")
}

// setFlags is the set of the flags given on fs's command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// resolve checks the command flags against what fs parsed, copies the
// commands into o and returns the run's label.
func (cf *commandFlags) resolve(fs *flag.FlagSet, o *bench.Options) (string, error) {
	set := setFlags(fs)
	for _, c := range []struct{ flag, cmd string }{{"writer-cmd", cf.writer}, {"reader-cmd", cf.reader}} {
		if set[c.flag] && strings.TrimSpace(c.cmd) == "" {
			return "", usagef("--%s: empty command (give a shell command line, e.g. 'head -c 1G /dev/zero')", c.flag)
		}
	}
	o.WriterCmd, o.ReaderCmd = cf.writer, cf.reader
	if o.WriterCmd != "" && o.ReaderCmd != "" && set["bytes"] {
		return "", usagef("--bytes: both sides are commands, so pipelab has no side that could stop the transfer (drop --bytes; the run ends when the commands do)")
	}
	if set["name"] {
		if err := checkName(cf.name); err != nil {
			return "", err
		}
		return cf.name, nil
	}
	switch {
	case o.WriterCmd != "":
		return commandName(o.WriterCmd), nil
	case o.ReaderCmd != "":
		return commandName(o.ReaderCmd), nil
	}
	return o.Mode, nil
}

// checkName refuses a --name that is no plain word (result.CheckName),
// or whose files would be a folder's own (result.CheckFolder).
func checkName(name string) error {
	if name == "" {
		return usagef("--name: empty label (give a file name such as fizzbuzz)")
	}
	var ne *result.NameError
	if err := result.CheckName(name); errors.As(err, &ne) {
		return usagef("--name %s: %s (the label names files OUT/NAME.*; give a plain name such as fizzbuzz)", name, ne.Problem)
	}
	return folderNames([]string{name}, name, true)
}

// folderNames refuses steps whose files would collide in one folder
// (result.CheckFolder), blaming the command step ext, named by --name
// when byFlag.
func folderNames(steps []string, ext string, byFlag bool) error {
	var ce *result.CollisionError
	if err := result.CheckFolder(steps); errors.As(err, &ce) {
		if byFlag {
			return usagef("--name %s: OUT/%s (choose another name)", ext, ce)
		}
		return usagef("--writer-cmd/--reader-cmd: the step is named %s after its program, so OUT/%s (give it another with --name)", ext, ce)
	}
	return nil
}

// commandName derives a label from a command line: the base name of its
// first word that is not a variable assignment, up to its first dot, cut
// down to letters, digits, '_' and '-' (a plain word, result.CheckName);
// "cmd" when nothing is left.
func commandName(cmdline string) string {
	word := ""
	for _, w := range strings.Fields(cmdline) {
		if !strings.Contains(w, "=") || strings.HasPrefix(w, "=") {
			word = w
			break
		}
	}
	base, _, _ := strings.Cut(strings.TrimLeft(filepath.Base(word), "."), ".")
	var b strings.Builder
	for _, r := range base {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		}
	}
	name := strings.TrimLeft(b.String(), "-")
	if len(name) > result.MaxNameBytes {
		name = name[:result.MaxNameBytes]
	}
	if name == "" {
		return "cmd"
	}
	return name
}

// labelStep puts the run's label and commands on a step built from res.
func labelStep(s *result.Step, name string, res *bench.Result) {
	o := res.Options
	if name != s.Mode || o.WriterCmd != "" || o.ReaderCmd != "" {
		s.Strategy = s.Mode
		s.Mode = name
	}
	s.WriterCmd, s.ReaderCmd = o.WriterCmd, o.ReaderCmd
	for i, r := range res.Runs {
		if len(r.Commands) > 0 && !r.Partial {
			s.Bytes = r.Bytes // what crossed the pipe, which --bytes only bounds
		}
		for _, c := range r.Commands {
			c.Run = i + 1
			s.Commands = append(s.Commands, c)
		}
	}
}

// printCommands tells on stderr how each external command ended in the
// last run, with the first line of its stderr and of a reader's stdout;
// not the command that failure (the run's error, printed once as the
// command's own) names.
func printCommands(env *cli, s result.Step, failure error) {
	failed := failedRole(failure)
	last := 0
	for _, c := range s.Commands {
		last = max(last, c.Run)
	}
	for _, c := range s.Commands {
		if c.Run != last || c.Role == failed {
			continue
		}
		line := fmt.Sprintf("pipelab: %s: %s command %q (pid %d): %s", s.Mode, c.Role, c.Command, c.PID, c.Status)
		if out := firstLine(c.Stdout); out != "" {
			line += "; stdout: " + out
		}
		if e := firstLine(c.Stderr); e != "" {
			line += "; stderr: " + e
		}
		fmt.Fprintln(env.stderr, line)
	}
}

// failedRole is the role of the command whose failure err is, or "".
func failedRole(err error) string {
	var ce *bench.ChildError
	var se *bench.ShortError
	switch {
	case errors.As(err, &ce) && ce.Command != "":
		return ce.Role
	case errors.As(err, &se):
		return se.Role
	}
	return ""
}

// withoutFailure is warnings without the line that says failure, which
// the step carries for its file and the command prints as its error.
func withoutFailure(warnings []string, failure error) []string {
	if failure == nil {
		return warnings
	}
	return slices.DeleteFunc(slices.Clone(warnings), func(w string) bool { return w == message(failure) })
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}
