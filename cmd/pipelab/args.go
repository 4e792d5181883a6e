package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// pipelab's own argument scanner. The flags are defined on a
// flag.FlagSet (its Var, BoolVar, ... give each flag its name, default,
// usage and value), but the command line is read here, not by the flag
// package, so that:
//
//   - flags go anywhere on the line, before, between or after the
//     arguments, as perf and git users expect (pipelab compare A B --out C);
//   - "--" ends the flags: every word after it is an argument;
//   - a flag that takes a value takes the next word whatever it is, so a
//     value may begin with "-" (--writer-cmd '-x', or --writer-cmd=-x);
//   - every complaint is a message of ours, said with the flag as the user
//     spells it (--bytes), never the flag package's English.
//
// A flag is --name or -name, with its value as the next word or after
// "=" (--bytes=1GiB). A boolean flag takes no next word: --busy is
// --busy=true, and only --busy=false turns it off. --help, -help and -h
// ask for the command's help, unless the command defines a flag of that
// name.

// argError is a command line the scanner refuses: the flag as typed, and
// what is wrong with it. Its text is one line of the form
// "unknown flag --frob", "flag --bytes needs a value" or
// "--bytes 12XB: not a size (...)".
type argError struct {
	flag    string // the flag's name without dashes, or the word as typed for bad syntax
	value   string // the value given, when the value is at fault
	problem string
	kind    argProblem
}

// argProblem is what kind of thing is wrong with a command line.
type argProblem int

const (
	badSyntax  argProblem = iota // a word that starts with dashes but names no flag: "---x", "-=1"
	unknown                      // a flag the command does not define
	needsValue                   // a flag that takes a value, last on the line
	badValue                     // a value the flag refuses
)

func (e *argError) Error() string {
	switch e.kind {
	case badSyntax:
		return fmt.Sprintf("bad flag syntax %s (a flag is --name, --name value or --name=value)", e.flag)
	case unknown:
		return "unknown flag --" + e.flag
	case needsValue:
		return "flag --" + e.flag + " needs a value"
	}
	return fmt.Sprintf("--%s %s: %s", e.flag, e.value, e.problem)
}

// scan reads args against fs's flag definitions: it sets every flag
// given and keeps the other words, in order, as the arguments (fs.Args).
// It reports whether help was asked for; it stops at the first flag it
// refuses, with an *argError.
func (fs *flagSet) scan(args []string) (help bool, err error) {
	fs.args = nil
	for i := 0; i < len(args); i++ {
		word := args[i]
		if word == "--" {
			fs.args = append(fs.args, args[i+1:]...)
			return false, nil
		}
		if len(word) < 2 || word[0] != '-' {
			fs.args = append(fs.args, word) // "-" alone is an argument (stdin, by convention)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(word[1:], "-"), "=")
		if name == "" || name[0] == '-' {
			return false, &argError{flag: word, kind: badSyntax}
		}
		f := fs.Lookup(name)
		if f == nil {
			if name == "help" || name == "h" {
				return true, nil
			}
			return false, &argError{flag: name, kind: unknown}
		}
		if !hasValue {
			if isBoolFlag(f) {
				value = "true"
			} else {
				if i+1 == len(args) {
					return false, &argError{flag: name, kind: needsValue}
				}
				i++
				value = args[i]
			}
		}
		if err := fs.setFlag(f, value); err != nil {
			return false, &argError{flag: name, value: value, problem: err.Error(), kind: badValue}
		}
	}
	return false, nil
}

// setFlag sets f to value. The flag package's own kinds of value are
// checked here first, so that what is wrong is said in our words; pipelab's
// own values (sizes, --pin, --buf-offset) say it themselves.
func (fs *flagSet) setFlag(f *flag.Flag, value string) error {
	if isBoolFlag(f) {
		if _, err := strconv.ParseBool(value); err != nil {
			return errors.New("not true or false")
		}
	} else if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case int, int64:
			if _, err := strconv.ParseInt(value, 0, strconv.IntSize); err != nil {
				return numberProblem(err)
			}
		case uint, uint64:
			if _, err := strconv.ParseUint(value, 0, strconv.IntSize); err != nil {
				return numberProblem(err)
			}
		case time.Duration:
			if _, err := time.ParseDuration(value); err != nil {
				return errors.New("not a duration (e.g. 500ms, 10s, 2m)")
			}
		}
	}
	return fs.Set(f.Name, value)
}

// numberProblem says what is wrong with a whole number strconv refused.
func numberProblem(err error) error {
	if errors.Is(err, strconv.ErrRange) {
		return errors.New("out of range")
	}
	return errors.New("not a whole number")
}

// isBoolFlag reports whether f takes no value word (--busy).
func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Args returns the arguments scan kept: every word that is not a flag or
// a flag's value, and every word after "--".
func (fs *flagSet) Args() []string { return fs.args }

// NArg is len(fs.Args()).
func (fs *flagSet) NArg() int { return len(fs.args) }

// Arg returns the i'th argument, or "" when there are fewer.
func (fs *flagSet) Arg(i int) string {
	if i < 0 || i >= len(fs.args) {
		return ""
	}
	return fs.args[i]
}
