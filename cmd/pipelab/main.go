// Command pipelab is a lab for Linux pipe throughput. It runs each strategy
// of "How fast are Linux pipes anyway?" as a real writer process and a real
// reader process joined by a pipe, measures GiB/s, and, when asked to
// profile, samples both processes' kernel and user call stacks with
// perf_event_open and writes pprof profiles that `go tool pprof` opens.
//
// Usage:
//
//	pipelab run     [flags]        throughput only, like ./write | ./read
//	pipelab profile [flags]        the same run, with counters and sampled stacks per role
//	pipelab ladder  [flags]        profile every step of the post; write a Markdown report
//	pipelab diff    [flags] A B    kernel-symbol share change between two profiles or folders
//	pipelab flame   [flags] P      an SVG flame graph of any pprof file; --diff A B a differential one
//	pipelab compare [flags] DIR... the same steps in two or more result folders, side by side
//	pipelab gup     [flags]        the kernel's get_user_pages_fast benchmark (CONFIG_GUP_TEST), small vs huge pages
//	pipelab report  DIR            rebuild report.md and the chart of a saved ladder folder
//	pipelab doctor  [--json]       what this machine allows, with remedies
//	pipelab help    COMMAND        every flag of a command
//
// Run `pipelab help COMMAND` (or `pipelab COMMAND --help`) for every flag
// of a command. Flags go anywhere on the line, before, between or after
// the arguments (`pipelab compare A B --out C`), as --name value or
// --name=value; `--` ends them, and a flag's value may begin with a dash
// (`--writer-cmd '-x'`). docs/errors.md lists every bad input with
// pipelab's answer.
//
// profile and ladder interleave three kinds of transfer, --repeat of each:
// unprofiled ones, whose throughput they report; profiled ones, whose
// samples make the profiles (--event cycles where a PMU exists, else
// cpu-clock); and, in the cpu view, counted ones, which carry the
// per-thread counters so that no per-task event rides on a sampled
// transfer. The summary's "profiling cost:" line compares the profiled
// with the unprofiled ones; --no-baseline skips the unprofiled ones. The
// ladder and run --mode all take the modes in a new random order every
// round, as the post's measure.py does.
//
// Anybody's programs: run and profile take --writer-cmd and --reader-cmd
// (a shell command line on either side of pipelab's pipe, or both) and
// --attach W,R --duration D (two running processes); ladder takes one
// such step beside the post's, named by --name and placed by --modes.
// --keep-cpus-awake (run, profile, ladder; root) keeps every CPU out of
// idle states while the transfers run, to show what waking idle CPUs
// costs the blocking modes.
//
// Modes (the post's steps):
//
//	write          write(2)                          | read(2)
//	write-huge     write(2), huge-page buffer        | read(2)
//	vmsplice       vmsplice(2), double buffer        | read(2)
//	vmsplice-huge  vmsplice(2), huge pages           | read(2)
//	splice         vmsplice(2)                       | splice(2) to /dev/null
//	huge           vmsplice(2), huge pages           | splice(2)
//	busy           vmsplice(2), huge pages, spinning | splice(2), spinning
//
// Exit status: 0 on success, 1 when a run failed, 2 for bad usage or bad
// input, 130 or 143 when interrupted by SIGINT or SIGTERM (results collected
// so far are written and marked interrupted). `pipelab doctor` exits 0 when
// profiling works fully, 1 when limited and 2 when it cannot work.
//
// The README has a short tour; docs/tour.md runs every command with its
// real output, docs/files.md describes the result folder, and
// docs/measurements.md holds every figure with its command.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pipelab/pipelab/bench"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitSIGINT  = 130
	exitSIGTERM = 143
)

// usageError is bad input: its message is printed as is and the exit status is 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// command is one subcommand of pipelab.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cli, args []string) error
}

// cli carries what a command may touch of the outside world, so tests can
// run commands in-process with their own streams.
type cli struct {
	stdout, stderr io.Writer
	// stderrTTY reports whether stderr is a terminal (progress is shown only then).
	stderrTTY bool
}

func commands() []command {
	return []command{
		{"run", "measure throughput of one mode or all of them", cmdRun},
		{"profile", "run with counters and sampled kernel+user stacks; write pprof files", cmdProfile},
		{"ladder", "profile every step of the post and write a Markdown report", cmdLadder},
		{"diff", "kernel-symbol share change between two profiles or result folders", cmdDiff},
		{"flame", "draw a flame graph (or a differential one) of any pprof file as SVG", cmdFlame},
		{"compare", "set two or more result folders (ladders, machines, kernels) side by side", cmdCompare},
		{"gup", "time get_user_pages_fast with the kernel's GUP_FAST_BENCHMARK, small pages vs a huge page", cmdGup},
		{"report", "rebuild report.md and throughput.svg from a saved ladder folder", cmdReport},
		{"doctor", "say what this machine allows, with remedies", cmdDoctor},
	}
}

func main() {
	bench.Child() // a writer or reader child never returns from here
	os.Exit(realMain(os.Args[1:], &cli{stdout: os.Stdout, stderr: os.Stderr, stderrTTY: isTerminal(os.Stderr)}))
}

// realMain runs pipelab with args and returns the exit status.
func realMain(args []string, env *cli) int {
	if len(args) == 0 {
		printUsage(env.stderr)
		return exitUsage
	}
	name := args[0]
	if name == "help" && len(args) > 1 {
		return help(args[1:], env)
	}
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		printUsage(env.stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		ctx, sig := signalContext()
		defer sig.stop()
		err := c.run(ctx, env, args[1:])
		return exitStatus(env, err, sig)
	}
	fmt.Fprintf(env.stderr, "pipelab: unknown command %q (want one of: %s; see pipelab help)\n", name, commandNames())
	return exitUsage
}

// help is pipelab help COMMAND: the command's own --help.
func help(args []string, env *cli) int {
	if len(args) > 1 {
		fmt.Fprintf(env.stderr, "pipelab: help: want one command, got %d (e.g. pipelab help run)\n", len(args))
		return exitUsage
	}
	if args[0] == "help" {
		printUsage(env.stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return realMain([]string{c.name, "--help"}, env)
		}
	}
	fmt.Fprintf(env.stderr, "pipelab: help: unknown command %q (want one of: %s)\n", args[0], commandNames())
	return exitUsage
}

// commandNames lists the commands, comma-separated.
func commandNames() string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// exitStatus prints err, if any, and maps it to an exit status.
func exitStatus(env *cli, err error, sig *signals) int {
	var ue *usageError
	var st *statusError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &st):
		if st.err != nil {
			fmt.Fprintf(env.stderr, "pipelab: %s\n", message(st.err))
		}
		return st.code
	case sig.received() != nil:
		fmt.Fprintf(env.stderr, "pipelab: stopped by %s: %s\n", signalName(sig.received()), message(err))
		if sig.received() == syscall.SIGTERM {
			return exitSIGTERM
		}
		return exitSIGINT
	case errors.As(err, &ue):
		fmt.Fprintf(env.stderr, "pipelab: %v\n", err)
		return exitUsage
	default:
		fmt.Fprintf(env.stderr, "pipelab: %s\n", message(err))
		return exitFailed
	}
}

// statusError asks for a specific exit status (doctor's 0/1/2).
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "pipelab: a lab for Linux pipe throughput, after \"How fast are Linux pipes anyway?\"")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: pipelab COMMAND [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'pipelab help COMMAND' (or 'pipelab COMMAND --help') for the flags of a command.")
	fmt.Fprintln(w, "Flags go anywhere on the line, before or after the arguments; -- ends them.")
}

// signals turns SIGINT and SIGTERM into a cancelled context and remembers
// which one arrived.
type signals struct {
	ch     chan os.Signal
	cancel context.CancelFunc
	got    chan os.Signal
}

func signalContext() (context.Context, *signals) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &signals{ch: make(chan os.Signal, 2), cancel: cancel, got: make(chan os.Signal, 1)}
	signal.Notify(s.ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sg, ok := <-s.ch
		if !ok {
			return
		}
		s.got <- sg
		cancel()
	}()
	return ctx, s
}

func (s *signals) received() os.Signal {
	select {
	case sg := <-s.got:
		s.got <- sg
		return sg
	default:
		return nil
	}
}

// signalName is the signal's name as kill(1) and docs/errors.md spell it:
// SIGINT, SIGTERM.
func signalName(sg os.Signal) string {
	if n, ok := sg.(syscall.Signal); ok && unix.SignalName(n) != "" {
		return unix.SignalName(n)
	}
	return sg.String()
}

func (s *signals) stop() {
	signal.Stop(s.ch)
	close(s.ch)
	s.cancel()
}

// isTerminal reports whether f is a character device such as a terminal.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
