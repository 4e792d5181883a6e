package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/pipelab/pipelab/bench"
)

// errHelp is returned by a command after it printed its --help text.
var errHelp = errors.New("help shown")

// flagSet holds a command's flag definitions (on a flag.FlagSet) and the
// arguments of its command line once scan has read it (args.go); errors
// are one line and --help is printed on stdout.
type flagSet struct {
	*flag.FlagSet
	cmd, synopsis, about string
	args                 []string // the words that are not flags, in order
}

func newFlagSet(cmd, synopsis, about string) *flagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flagSet{FlagSet: fs, cmd: cmd, synopsis: synopsis, about: about}
}

// parse reads args (flags anywhere, -- ends them); on --help it prints
// the help to stdout and returns errHelp.
func (fs *flagSet) parse(env *cli, args []string) error {
	help, err := fs.scan(args)
	if err != nil {
		return usagef("%s: %v (see pipelab %s --help)", fs.cmd, err, fs.cmd)
	}
	if help {
		fs.printHelp(env.stdout)
		return errHelp
	}
	return nil
}

func (fs *flagSet) printHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: pipelab %s %s\n\n%s\n\nFlags (anywhere on the line; -- ends them):\n", fs.cmd, fs.synopsis, fs.about)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if len(f.Name) == 1 {
			line = "  -" + f.Name // a one-letter flag such as flame's -o
		}
		if name != "" {
			line += " " + name
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// sizeValue is a byte-size flag: 4096, 256KiB, 1GiB, 10G.
type sizeValue struct{ n *int64 }

func (v sizeValue) String() string {
	if v.n == nil || *v.n == 0 {
		return ""
	}
	return bench.FormatSize(*v.n)
}

func (v sizeValue) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*v.n = n
	return nil
}

// parseSize is bench.ParseSize with only what is wrong with the text in
// its error, since the flag error names the flag and the text already.
func parseSize(s string) (int64, error) {
	n, err := bench.ParseSize(s)
	var se *bench.SizeError
	if errors.As(err, &se) {
		return 0, se.Err
	}
	return n, err
}

// intSize adapts an int field to sizeValue.
type intSize struct{ n *int }

func (v intSize) String() string {
	if v.n == nil || *v.n == 0 {
		return ""
	}
	return bench.FormatSize(int64(*v.n))
}

func (v intSize) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	if n > 1<<31-1 {
		return errors.New("too large (at most 2GiB)")
	}
	*v.n = int(n)
	return nil
}

// offsetValue is --buf-offset: a byte count, or "malloc" for
// bench.MallocOffset.
type offsetValue struct{ n *int }

func (v offsetValue) String() string {
	if v.n == nil || *v.n == bench.MallocOffset {
		return "malloc"
	}
	return strconv.Itoa(*v.n)
}

func (v offsetValue) Set(s string) error {
	if s == "malloc" {
		*v.n = bench.MallocOffset
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("not a byte count (0 to %d, or malloc)", os.Getpagesize()-1)
	}
	*v.n = n
	return nil
}

// pinValue is --pin W,R: the CPUs of the writer and the reader, or "none".
type pinValue struct{ w, r *int }

func (v pinValue) String() string {
	if v.w == nil {
		return ""
	}
	if *v.w < 0 && *v.r < 0 {
		return "none"
	}
	return fmt.Sprintf("%d,%d", *v.w, *v.r)
}

func (v pinValue) Set(s string) error {
	if s == "none" {
		*v.w, *v.r = -1, -1
		return nil
	}
	ws, rs, ok := strings.Cut(s, ",")
	if !ok {
		return errors.New("not W,R (two CPU numbers such as 0,1, or none)")
	}
	w, err1 := strconv.Atoi(strings.TrimSpace(ws))
	r, err2 := strconv.Atoi(strings.TrimSpace(rs))
	if err1 != nil || err2 != nil || w < -1 || r < -1 {
		return errors.New("not W,R (two CPU numbers such as 0,1; -1 leaves one side unpinned)")
	}
	*v.w, *v.r = w, r
	return nil
}

// runFlags registers the knobs of bench.Options shared by run, profile and
// ladder, with o's values as defaults.
func runFlags(fs *flagSet, o *bench.Options) {
	fs.Var(intSize{&o.BufSizeBytes}, "buf-size", "`size` of the writer's and reader's buffer (the post's 256KiB; vmsplice modes split it in two halves)")
	fs.Var(sizeValue{&o.Bytes}, "bytes", "`size` the reader takes before it stops, e.g. 4096, 256KiB, 1GiB, 10G")
	fs.Var(intSize{&o.PipeSizeBytes}, "pipe-size", "pipe `size` set with F_SETPIPE_SZ (default: kernel's 64KiB; vmsplice modes: half the buffer, the post's double-buffer scheme)")
	fs.BoolVar(&o.Busy, "busy", o.Busy, "busy-loop: SPLICE_F_NONBLOCK / O_NONBLOCK and spin on EAGAIN at both ends")
	fs.BoolVar(&o.Poll, "poll", o.Poll, "poll(2) for readiness before each call at both ends")
	fs.BoolVar(&o.Huge, "huge", o.Huge, "back the buffer with transparent huge pages (2MiB aligned, MADV_HUGEPAGE)")
	fs.BoolVar(&o.CheckHuge, "check-huge", o.CheckHuge, "prove via /proc/self/pagemap and /proc/kpageflags that the buffer is a huge page; fail if not")
	fs.BoolVar(&o.Gift, "gift", o.Gift, "pass SPLICE_F_GIFT to vmsplice and SPLICE_F_MOVE to splice")
	fs.BoolVar(&o.LockMemory, "lock-memory", o.LockMemory, "mlock the buffer")
	fs.BoolVar(&o.DontTouchPages, "dont-touch-pages", o.DontTouchPages, "do not memset the buffer first (pages are not faulted in)")
	fs.BoolVar(&o.SameBuffer, "same-buffer", o.SameBuffer, "vmsplice the same half-buffer every time instead of alternating")
	fs.Var(offsetValue{&o.BufOffset}, "buf-offset", fmt.Sprintf("`bytes` past a page boundary (2MiB for huge pages) where each buffer starts, 0 to %d, or malloc: where the post's programs have it, 16 for small pages (malloc) and 0 for huge pages (aligned_alloc)", os.Getpagesize()-1))
	fs.Var(pinValue{&o.PinWriter, &o.PinReader}, "pin", "pin the writer and reader to CPUs `W,R` (like the post's taskset), or none")
	fs.IntVar(&o.Repeat, "repeat", o.Repeat, "run the transfer `N` times; figures are the median, min and max")
	fs.BoolVar(&o.Verify, "verify", o.Verify, "writer stamps block sequence numbers; reader checks every byte (not a splice reader, unless --consume)")
	fs.BoolVar(&o.Consume, "consume", o.Consume, "the reader uses every byte it takes: it sums them (a splice reader read(2)s them into its buffer first)")
	fs.Var(intSize{&o.RingSizeBytes}, "ring-size", "`size` of the ring of modes ring and ring-busy, a power of two that holds two buffers (default: 2MiB, or the least such size if larger)")
	fs.BoolVar(&o.Streaming, "streaming", o.Streaming, "the ring's writer stores into the ring with non-temporal stores, past its own cache (amd64; an ordinary copy elsewhere)")
	fs.BoolVar(&o.RewriteAfterSplice, "rewrite-after-splice", o.RewriteAfterSplice, "experiment (needs --verify and a vmsplice writer): rewrite each half-buffer as soon as vmsplice returns, to see whether the reader gets the new bytes")
	fs.BoolVar(&o.KeepCPUsAwake, "keep-cpus-awake", o.KeepCPUsAwake, "experiment: keep every CPU out of idle states while the transfers run (a 0µs PM QoS request held open on /dev/cpu_dma_latency, dropped by the kernel when pipelab exits however it exits), to measure what waking idle CPUs costs the blocking modes; needs root")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "stop a run whose writer or reader makes no progress for this `duration` (0: never)")
}

// checkArgs rejects positional arguments for commands that take none.
func checkArgs(fs *flagSet) error {
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q (flags start with --; see pipelab %s --help)", fs.cmd, fs.Arg(0), fs.cmd)
	}
	return nil
}

// validate checks o and turns a bench option error into a usage error;
// --keep-cpus-awake where its request cannot be made is one too.
func validate(o bench.Options) error {
	if o.KeepCPUsAwake {
		if err := bench.ProbeCPUsAwake(); err != nil {
			return usagef("--keep-cpus-awake: %v", err)
		}
	}
	return usageOf(o.Validate())
}

// flags names the flag that sets each field of bench.Options and
// profile.Config, and each parameter of bench.Watch, that their errors
// can name: bench and profile never spell a flag, and this is the one
// place that knows which flag sets which field.
var flags = map[string]string{
	"Mode": "--mode", "BufSizeBytes": "--buf-size", "Bytes": "--bytes", "PipeSizeBytes": "--pipe-size",
	"Busy": "--busy", "Poll": "--poll", "Huge": "--huge", "CheckHuge": "--check-huge", "Gift": "--gift",
	"LockMemory": "--lock-memory", "DontTouchPages": "--dont-touch-pages", "SameBuffer": "--same-buffer",
	"BufOffset": "--buf-offset", "PinWriter": "--pin", "PinReader": "--pin", "Repeat": "--repeat",
	"Verify": "--verify", "Timeout": "--timeout", "RewriteAfterSplice": "--rewrite-after-splice",
	"KeepCPUsAwake": "--keep-cpus-awake", "WriterCmd": "--writer-cmd", "ReaderCmd": "--reader-cmd",
	"Consume": "--consume", "RingSizeBytes": "--ring-size", "Streaming": "--streaming",
	// bench.Watch's parameters.
	"Writer": "--attach", "Reader": "--attach", "Duration": "--duration",
	// profile.Config.
	"FreqHz": "--freq", "View": "--view", "Event": "--event",
}

// flagName names the flag that sets field; a field no flag sets keeps
// its Go name.
func flagName(field string) string {
	if f, ok := flags[field]; ok {
		return f
	}
	return field
}

// usageOf is err as a usage error; a *bench.OptionError or a
// *profile.ConfigError (any fieldNamer) says it with flag names, not field names.
func usageOf(err error) error {
	var fe fieldNamer
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return &usageError{fe.Format(flagName)}
	}
	return &usageError{err.Error()}
}

// warningLines renders bench's warnings with flag names, as the user
// reads them (on stderr, in the summary and in the saved step).
func warningLines(ws []bench.Warning) []string {
	var lines []string
	for _, w := range ws {
		lines = append(lines, w.Format(flagName))
	}
	return lines
}

// fieldNamer is an error whose text names fields, rendered by Format with
// the names name gives them.
type fieldNamer interface {
	error
	Format(name func(field string) string) string
}

// message renders err as the user reads it: an error in its chain that
// names fields (*bench.ChildError, *bench.OptionError — bench.Run checks
// its options again when it starts — or *profile.ConfigError) says them
// by their flags. A wrapped error's text is a
// prefix of its own before the text of the error it wraps (fmt.Errorf's
// "...: %w"), and errors.Join's the lines of its errors; any other error
// is said as it is.
func message(err error) string {
	switch e := err.(type) {
	case fieldNamer:
		return e.Format(flagName)
	case interface{ Unwrap() []error }:
		var texts, lines []string
		for _, inner := range e.Unwrap() {
			texts, lines = append(texts, inner.Error()), append(lines, message(inner))
		}
		if strings.Join(texts, "\n") == err.Error() {
			return strings.Join(lines, "\n")
		}
	case interface{ Unwrap() error }:
		if inner := e.Unwrap(); inner != nil {
			if prefix, ok := strings.CutSuffix(err.Error(), inner.Error()); ok {
				return prefix + message(inner)
			}
		}
	}
	return err.Error()
}

// noteKeepAwake tells the user, on stderr, that --keep-cpus-awake is on:
// the figures that follow are not those of the machine as it idles.
func noteKeepAwake(env *cli, o bench.Options) {
	if o.KeepCPUsAwake {
		fmt.Fprintln(env.stderr, "--keep-cpus-awake: every CPU is kept out of idle states while the transfers run (a 0µs PM QoS request on /dev/cpu_dma_latency, dropped when pipelab exits)")
	}
}
