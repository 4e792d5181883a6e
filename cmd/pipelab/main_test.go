package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	pprof "github.com/google/pprof/profile"

	"github.com/pipelab/pipelab/bench"
)

// TestMain lets the test binary play pipelab: as a writer or reader child
// (bench.Child), or as the command itself when PIPELAB_TEST_MAIN=1.
func TestMain(m *testing.M) {
	bench.Child()
	noMemfdMain()
	if os.Getenv("PIPELAB_TEST_MAIN") == "1" {
		os.Exit(realMain(os.Args[1:], &cli{stdout: os.Stdout, stderr: os.Stderr}))
	}
	os.Exit(m.Run())
}

// pipelabCmd is the test binary as pipelab with args, to run in dir (""
// for this directory), not yet started.
func pipelabCmd(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PIPELAB_TEST_MAIN=1")
	return cmd
}

// pipelab runs the test binary as pipelab with args in dir and returns its
// stdout, stderr and exit status.
func pipelab(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := pipelabCmd(t, dir, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("pipelab %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), withoutShared(errb.String()), code
}

// sharedRE matches the warning that another pipelab ran transfers on the
// same CPUs. Other test suites run on this machine at the same time, and
// CI runs the packages' tests side by side, so any run may say it; a
// test of the exact output must not fail for it (TestSharedWarning checks
// the warning itself).
var sharedRE = regexp.MustCompile(`(?m)^pipelab: [^ ]+: warning: another pipelab \(pid \d+: .*\) ran transfers on CPUs .*\n`)

// withoutShared is stderr without the lines sharedRE matches.
func withoutShared(stderr string) string {
	return sharedRE.ReplaceAllString(stderr, "")
}

// badInput is one row of the bad-input table in docs/errors.md: what a user
// types and the one line pipelab answers.
type badInput struct {
	args []string
	want string // the whole stderr, one line
	code int
}

func badInputs(dir string) []badInput {
	const sizeHint = "(use e.g. 4096, 256KiB, 1.5GiB or 10G; units are powers of 1024)"
	return []badInput{
		{[]string{"frob"}, `pipelab: unknown command "frob" (want one of: run, profile, ladder, diff, flame, compare, gup, report, doctor; see pipelab help)`, 2},
		{[]string{"run", "--mode", "nope"}, "pipelab: --mode nope: unknown mode (want one of: write, write-huge, vmsplice, vmsplice-huge, splice, huge, busy, socket, ring, ring-busy, copy, copy-dram, all)", 2},
		{[]string{"run", "--bytes", "0"}, "pipelab: run: --bytes 0: must be positive " + sizeHint + " (see pipelab run --help)", 2},
		{[]string{"run", "--bytes", "-5"}, "pipelab: run: --bytes -5: must be positive " + sizeHint + " (see pipelab run --help)", 2},
		{[]string{"run", "--bytes", "12XB"}, "pipelab: run: --bytes 12XB: not a size " + sizeHint + " (see pipelab run --help)", 2},
		{[]string{"run", "--bytes"}, "pipelab: run: flag --bytes needs a value (see pipelab run --help)", 2},
		{[]string{"run", "--buf-size", "3GiB"}, "pipelab: run: --buf-size 3GiB: too large (at most 2GiB) (see pipelab run --help)", 2},
		{[]string{"run", "--mode", "vmsplice", "--buf-size", "1000"}, "pipelab: --buf-size 1000: vmsplice's double buffer needs two halves of whole 4KiB pages (use a multiple of 8KiB, e.g. 256KiB)", 2},
		{[]string{"run", "--pipe-size", "4MiB"}, "pipelab: --pipe-size 4MiB: above /proc/sys/fs/pipe-max-size (1MiB) (raise it with sysctl fs.pipe-max-size=4194304)", 2},
		{[]string{"run", "--pin", "0,7"}, "pipelab: --pin 0,7: CPU 7 is not available to this process (use CPUs from 0,1)", 2},
		{[]string{"run", "--buf-offset", "x"}, "pipelab: run: --buf-offset x: not a byte count (0 to 4095, or malloc) (see pipelab run --help)", 2},
		{[]string{"run", "--buf-offset", "4096"}, "pipelab: --buf-offset 4096: must be 0 to 4095 bytes past a page boundary (e.g. 0 for page-aligned buffers; leave it out for where the post's programs put them)", 2},
		{[]string{"run", "--pin", "abc"}, "pipelab: run: --pin abc: not W,R (two CPU numbers such as 0,1, or none) (see pipelab run --help)", 2},
		{[]string{"run", "--repeat", "0"}, "pipelab: --repeat 0: must be at least 1 (e.g. 5)", 2},
		{[]string{"run", "--timeout", "-1s"}, "pipelab: --timeout -1s: must not be negative (e.g. 10s, or 0 for none)", 2},
		{[]string{"run", "--busy=maybe"}, "pipelab: run: --busy maybe: not true or false (see pipelab run --help)", 2},
		{[]string{"run", "--json", "--csv"}, "pipelab: run: --json and --csv exclude each other (pick one)", 2},
		{[]string{"run", "--no-baseline"}, "pipelab: run: --no-baseline: run profiles nothing, so every transfer it makes is the baseline (the flag is for profile and ladder)", 2},
		{[]string{"run", "extra"}, `pipelab: run: unexpected argument "extra" (flags start with --; see pipelab run --help)`, 2},
		{[]string{"run", "--frob"}, "pipelab: run: unknown flag --frob (see pipelab run --help)", 2},
		{[]string{"run", "---frob"}, "pipelab: run: bad flag syntax ---frob (a flag is --name, --name value or --name=value) (see pipelab run --help)", 2},
		{[]string{"run", "--repeat", "99999999999999999999"}, "pipelab: run: --repeat 99999999999999999999: out of range (see pipelab run --help)", 2},
		{[]string{"run", "--", "--bytes", "1GiB"}, `pipelab: run: unexpected argument "--bytes" (flags start with --; see pipelab run --help)`, 2},
		{[]string{"help", "frob"}, `pipelab: help: unknown command "frob" (want one of: run, profile, ladder, diff, flame, compare, gup, report, doctor)`, 2},
		{[]string{"run", "--check-huge"}, "pipelab: --check-huge: needs a huge-page buffer (add --huge or use a -huge mode)", 2},
		{[]string{"run", "--mode", "write", "--gift"}, "pipelab: --gift: needs a vmsplice writer or a splice reader (use mode vmsplice, splice, huge or busy)", 2},
		{[]string{"run", "--busy", "--poll"}, "pipelab: --poll: contradicts busy looping (--busy or mode busy) (drop --poll or --busy)", 2},
		{[]string{"profile", "--freq", "0"}, "pipelab: --freq 0: out of range (use 1 to 100000 Hz, kernel.perf_event_max_sample_rate)", 2},
		{[]string{"profile", "--freq", "1000000"}, "pipelab: --freq 1000000: out of range (use 1 to 100000 Hz, kernel.perf_event_max_sample_rate)", 2},
		{[]string{"profile", "--out", "/proc/nope"}, "pipelab: --out /proc/nope: no such file or directory (choose a writable directory)", 2},
		{[]string{"profile", "--view", "foo"}, "pipelab: --view foo: unknown view (want cpu or wall)", 2},
		{[]string{"profile", "--mode", "all"}, "pipelab: --mode all: profile takes one mode (use pipelab ladder for several)", 2},
		{[]string{"profile", "--event", "cycles"}, "pipelab: --event cycles: no hardware PMU here (perf_event_open cycles pid 0: not supported here: perf_event_open: no such file or directory (no hardware PMU; software events only)) (use --event cpu-clock; cycles needs a PMU: bare metal, or a VM that exposes one)", 2},
		{[]string{"profile", "--event", "foo"}, "pipelab: --event foo: unknown event (want cycles or cpu-clock)", 2},
		{[]string{"ladder", "--event", "cycles"}, "pipelab: --event cycles: no hardware PMU here (perf_event_open cycles pid 0: not supported here: perf_event_open: no such file or directory (no hardware PMU; software events only)) (use --event cpu-clock; cycles needs a PMU: bare metal, or a VM that exposes one)", 2},
		{[]string{"ladder", "--modes", "write,bogus"}, `pipelab: --modes: unknown mode "bogus" (want a comma-separated list of: write, write-huge, vmsplice, vmsplice-huge, splice, huge, busy, socket, ring, ring-busy, copy, copy-dram)`, 2},
		{[]string{"ladder", "--modes", "write,write"}, "pipelab: --modes: write is listed twice", 2},
		{[]string{"diff", "a"}, "pipelab: diff: want two profiles or result folders, A and B, got 1 argument(s) (see pipelab diff --help)", 2},
		{[]string{"diff", "--format", "yaml", "a", "b"}, "pipelab: --format yaml: unknown format (want text, markdown or json)", 2},
		{[]string{"diff", "notprof.txt", "notprof.txt"}, "pipelab: read profile notprof.txt: not a pprof profile (parsing profile: unrecognized profile format; give a .pb.gz file written by pipelab profile or go tool pprof -proto)", 2},
		{[]string{"diff", "empty", "empty"}, "pipelab: read results empty: no pipelab results (no ladder.json and no MODE.json; write some with pipelab profile --out empty or pipelab ladder --out empty)", 2},
		{[]string{"diff", "missing.pb.gz", "missing.pb.gz"}, "pipelab: read profile missing.pb.gz: no such file or directory", 2},
		{[]string{"report", "empty"}, "pipelab: read results empty: no pipelab results (no ladder.json and no MODE.json; write some with pipelab profile --out empty or pipelab ladder --out empty)", 2},
		{[]string{"diff", "user.pb.gz", "kernel.pb.gz"}, "pipelab: diff user.pb.gz: no kernel frames (profile A has none and diff compares kernel symbols; profile as root, or with kernel.perf_event_paranoid<=1 and kernel.kptr_restrict=0)", 2},
		{[]string{"diff", "count.pb.gz", "kernel.pb.gz"}, "pipelab: diff count.pb.gz kernel.pb.gz: different sample types (samples/count vs samples/count, cpu/nanoseconds; compare profiles of the same kind)", 2},
		{[]string{"diff", "--top", "0", "a", "b"}, "pipelab: --top 0: must be at least 1", 2},
		{[]string{"report"}, "pipelab: report: want one result folder, got 0 argument(s) (see pipelab report --help)", 2},
		{[]string{"report", "missing"}, "pipelab: read results missing: no such file or directory", 2},
		{[]string{"run", "--buf-size", "0"}, "pipelab: run: --buf-size 0: must be positive " + sizeHint + " (see pipelab run --help)", 2},
		{[]string{"run", "--pipe-size", "1000"}, "pipelab: --pipe-size 1000: pipe size below the page size (4KiB) (use at least 4KiB)", 2},
		{[]string{"run", "--pin", "1"}, "pipelab: run: --pin 1: not W,R (two CPU numbers such as 0,1, or none) (see pipelab run --help)", 2},
		{[]string{"run", "--repeat", "1.5"}, "pipelab: run: --repeat 1.5: not a whole number (see pipelab run --help)", 2},
		{[]string{"run", "--timeout", "5"}, "pipelab: run: --timeout 5: not a duration (e.g. 500ms, 10s, 2m) (see pipelab run --help)", 2},
		{[]string{"run", "--mode", "splice", "--verify"}, "pipelab: --verify: needs a reader that takes the bytes into its memory, and a splice reader passes them to /dev/null unseen (add --consume, which makes it read them, or use a mode with a read(2) or copying reader)", 2},
		{[]string{"profile", "--freq", "abc"}, "pipelab: profile: --freq abc: not a whole number (see pipelab profile --help)", 2},
		{[]string{"profile", "--out", "notprof.txt"}, "pipelab: --out notprof.txt: not a directory (choose a writable directory)", 2},
		{[]string{"ladder", "--view", "foo"}, "pipelab: --view foo: unknown view (want cpu or wall)", 2},
		{[]string{"ladder", "--samples", "-1"}, "pipelab: --samples -1: must be 0 (size by --bytes alone) or more", 2},
		{[]string{"ladder", "--modes", ","}, `pipelab: --modes: unknown mode "" (want a comma-separated list of: write, write-huge, vmsplice, vmsplice-huge, splice, huge, busy, socket, ring, ring-busy, copy, copy-dram)`, 2},
		{[]string{"run", "--mode", "vmsplice", "--rewrite-after-splice"}, "pipelab: --rewrite-after-splice: needs --verify and a vmsplice writer (add --verify and use mode vmsplice or vmsplice-huge)", 2},
		{[]string{"doctor", "extra"}, `pipelab: doctor: unexpected argument "extra" (flags start with --; see pipelab doctor --help)`, 2},
		{[]string{"gup", "--buf-size", "12KiB"}, "pipelab: --buf-size 12288: want two halves of whole 4KiB pages (a multiple of 8KiB, e.g. 256KiB)", 2},
		{[]string{"gup", "extra"}, `pipelab: gup: unexpected argument "extra" (flags start with --; see pipelab gup --help)`, 2},
		{[]string{"flame"}, "pipelab: flame: want one profile, got 0 argument(s) (see pipelab flame --help)", 2},
		{[]string{"flame", "notprof.txt"}, "pipelab: read profile notprof.txt: not a pprof profile (parsing profile: unrecognized profile format; give a .pb.gz file written by pipelab profile or go tool pprof -proto)", 2},
		{[]string{"flame", "nosamples.pb.gz"}, "pipelab: flame nosamples.pb.gz: no samples (the profile holds no samples with a positive samples/count; profile a run that does some work)", 2},
		{[]string{"flame", "--sample-type", "alloc_space", "kernel.pb.gz"}, "pipelab: flame kernel.pb.gz: different sample types (no sample type alloc_space; the profile has samples/count, cpu/nanoseconds)", 2},
		{[]string{"flame", "--tagfocus", "role=writer", "kernel.pb.gz"}, "pipelab: flame kernel.pb.gz: no samples (no sample has the tag role=writer; the profile's role tags are: none)", 2},
		{[]string{"flame", "--tagfocus", "writer", "kernel.pb.gz"}, "pipelab: --tagfocus writer: not key=value (e.g. role=writer)", 2},
		{[]string{"flame", "kernel.pb.gz", "-o", "/proc/nope/x.svg"}, "pipelab: -o /proc/nope/x.svg: no such file or directory (choose a writable path)", 2},
		{[]string{"flame", "--diff", "kernel.pb.gz"}, "pipelab: flame --diff: want two profiles, A and B, got 1 argument(s) (see pipelab flame --help)", 2},
		{[]string{"flame", "--diff", "count.pb.gz", "kernel.pb.gz"}, "pipelab: flame --diff count.pb.gz kernel.pb.gz: different sample types (samples/count vs samples/count, cpu/nanoseconds; compare profiles of the same kind)", 2},
		{[]string{"run", "--writer-cmd", ""}, "pipelab: --writer-cmd: empty command (give a shell command line, e.g. 'head -c 1G /dev/zero')", 2},
		{[]string{"profile", "--reader-cmd", " "}, "pipelab: --reader-cmd: empty command (give a shell command line, e.g. 'head -c 1G /dev/zero')", 2},
		{[]string{"ladder", "--name", "dd"}, "pipelab: --name dd: labels the ladder's step of --writer-cmd or --reader-cmd (add one, or drop --name)", 2},
		{[]string{"ladder", "--mode", "splice"}, "pipelab: --mode splice: is the strategy of pipelab's side of the step of --writer-cmd or --reader-cmd (add one; the built-in steps are --modes)", 2},
		{[]string{"ladder", "--writer-cmd", "dd", "--mode", "nope"}, "pipelab: --mode nope: unknown mode (want one of: write, write-huge, vmsplice, vmsplice-huge, splice, huge, busy, socket, ring, ring-busy, copy, copy-dram)", 2},
		{[]string{"ladder", "--modes", "write,write.writer", "--name", "write.writer", "--writer-cmd", "cat"}, "pipelab: --name write.writer: holds a dot, so its files write.writer.* could pass for step write's (the label names files OUT/NAME.*; give a plain name such as fizzbuzz)", 2},
		{[]string{"ladder", "--writer-cmd", "cat", "--name", "ladder"}, "pipelab: --name ladder: OUT/ladder.json would be both a file of step ladder and the ladder's own (choose another name)", 2},
		{[]string{"ladder", "--writer-cmd", "./ladder.sh"}, "pipelab: --writer-cmd/--reader-cmd: the step is named ladder after its program, so OUT/ladder.json would be both a file of step ladder and the ladder's own (give it another with --name)", 2},
		{[]string{"ladder", "--modes", "write,write-huge,write-write,huge", "--writer-cmd", "cat", "--name", "write-write"}, "pipelab: --name write-write: OUT/write-write-huge.writer.diff.svg would be both the write-write → huge diff flame graph and the write → write-huge diff flame graph (choose another name)", 2},
		{[]string{"profile", "--name", "my tool"}, "pipelab: --name my tool: holds ' ', which is not a letter, a digit, _, - or + (the label names files OUT/NAME.*; give a plain name such as fizzbuzz)", 2},
		{[]string{"run", "--name", "-x"}, "pipelab: --name -x: starts with - (the label names files OUT/NAME.*; give a plain name such as fizzbuzz)", 2},
		{[]string{"ladder", "--writer-cmd", "cat", "--name", "write"}, "pipelab: --name write: is a built-in step of the ladder (its files OUT/write.* would be taken for that step's; choose another name)", 2},
		{[]string{"ladder", "--writer-cmd", "huge"}, "pipelab: --writer-cmd/--reader-cmd: the step is named huge after its program, as a built-in step is (give it another with --name)", 2},
		{[]string{"ladder", "--writer-cmd", "dd", "--modes", "write,foo"}, `pipelab: --modes: unknown step "foo" (want a comma-separated list of: write, write-huge, vmsplice, vmsplice-huge, splice, huge, busy, socket, ring, ring-busy, copy, copy-dram, dd)`, 2},
		{[]string{"ladder", "--reader-cmd", ""}, "pipelab: --reader-cmd: empty command (give a shell command line, e.g. 'head -c 1G /dev/zero')", 2},
		{[]string{"run", "--writer-cmd", "yes", "--mode", "vmsplice", "--gift"}, "pipelab: --gift: is SPLICE_F_GIFT of pipelab's vmsplice writer (or SPLICE_F_MOVE of its splice reader), and --writer-cmd replaces pipelab's writer (drop it, or use a splice mode for pipelab's reader)", 2},
		{[]string{"run", "--writer-cmd", "yes", "--mode", "vmsplice", "--same-buffer"}, "pipelab: --same-buffer: is a knob of pipelab's vmsplice writer, and --writer-cmd replaces pipelab's writer (drop it)", 2},
		{[]string{"run", "--writer-cmd", "yes", "--mode", "splice", "--huge"}, "pipelab: --huge: applies to the buffer of pipelab's own side, and its splice reader has none (--writer-cmd replaces pipelab's writer) (drop it)", 2},
		{[]string{"run", "--reader-cmd", "wc -c", "--verify"}, "pipelab: --verify: needs pipelab's own writer and reader (the writer stamps each block, the reader checks it), and --reader-cmd replaces pipelab's reader (drop --verify)", 2},
		{[]string{"run", "--writer-cmd", "yes", "--reader-cmd", "wc -c", "--bytes", "1G"}, "pipelab: --bytes: both sides are commands, so pipelab has no side that could stop the transfer (drop --bytes; the run ends when the commands do)", 2},
		{[]string{"run", "--writer-cmd", "yes", "--reader-cmd", "wc -c", "--busy"}, "pipelab: --busy: applies to pipelab's own side, and --writer-cmd and --reader-cmd replace both of pipelab's sides (drop it)", 2},
		{[]string{"run", "--writer-cmd", "yes", "--reader-cmd", "wc -c", "--timeout", "5s"}, "pipelab: --timeout 5s: watches the bytes pipelab's own writer or reader moves, and --writer-cmd and --reader-cmd replace both of pipelab's sides (drop it)", 2},
		{[]string{"run", "--mode", "all", "--writer-cmd", "yes"}, "pipelab: --mode all: runs every mode, so it takes no --name, --writer-cmd or --reader-cmd (give one --mode)", 2},
		{[]string{"profile", "--name", "a/b"}, "pipelab: --name a/b: holds a path separator (the label names files OUT/NAME.*; give a plain name such as fizzbuzz)", 2},
		{[]string{"profile", "--attach", "1,2"}, "pipelab: --attach 1,2: needs --duration, the window to watch the two processes for (add e.g. --duration 10s)", 2},
		{[]string{"profile", "--attach", "1x", "--duration", "1s"}, "pipelab: --attach 1x: not W,R (the writer's and the reader's pids, such as 4242,4243)", 2},
		{[]string{"profile", "--attach", "1,1", "--duration", "1s"}, "pipelab: --attach 1,1: names one process twice (give the writer's pid, then the reader's)", 2},
		{[]string{"profile", "--attach", "1,99999999", "--duration", "1s"}, "pipelab: --attach 1,99999999: no process 99999999 (it has exited, or never ran) (give the pids of two running processes)", 2},
		{[]string{"profile", "--attach", "1,2", "--duration", "1s", "--writer-cmd", "yes"}, "pipelab: --attach: watches two running processes, so --writer-cmd does not apply (drop it)", 2},
		{[]string{"profile", "--duration", "5s"}, "pipelab: --duration 5s: is the window of --attach (add --attach W,R, or drop it)", 2},
		{[]string{"run", "--name", ".."}, "pipelab: --name ..: starts with a dot (the label names files OUT/NAME.*; give a plain name such as fizzbuzz)", 2},
		{[]string{"run", "--mode", "ring", "--ring-size", "768KiB"}, "pipelab: --ring-size 768KiB: must be a power of two (the ring's indices wrap with a mask) (e.g. 512KiB, the least that holds two 256KiB buffers)", 2},
		{[]string{"run", "--mode", "ring-busy", "--ring-size", "256KiB"}, "pipelab: --ring-size 256KiB: must hold two buffers of --buf-size 256KiB, at least 512KiB (the writer fills one while the reader empties the other) (use 512KiB or more, or a smaller buffer)", 2},
		{[]string{"run", "--mode", "ring", "--buf-size", "1GiB"}, "pipelab: --buf-size 1GiB: the ring holds two buffers, and at most 1GiB (use at most 512MiB)", 2},
		{[]string{"run", "--mode", "busy", "--ring-size", "1MiB"}, "pipelab: --ring-size 1MiB: sizes the shared-memory ring, and mode busy has none (drop it, or use mode ring or ring-busy)", 2},
		{[]string{"run", "--mode", "socket", "--streaming"}, "pipelab: --streaming: is how the ring's writer stores into the ring, and mode socket has none (drop it, or use mode ring or ring-busy)", 2},
		{[]string{"run", "--mode", "copy", "--pipe-size", "1MiB"}, "pipelab: --pipe-size 1MiB: sizes a pipe, and mode copy has none (one core's memory copy of a buffer in cache: no transport at all) (drop it, or use a pipe mode: write, write-huge, vmsplice, vmsplice-huge, splice, huge, busy)", 2},
		{[]string{"run", "--mode", "ring", "--poll"}, "pipelab: --poll: polls a file descriptor, and mode ring has none to poll (a shared-memory ring (memfd), both ends sleeping on a futex when it is full or empty) (drop it)", 2},
		{[]string{"run", "--mode", "socket", "--writer-cmd", "yes"}, "pipelab: --writer-cmd: puts a command on one end of a pipe, and mode socket has none (write(2) into an AF_UNIX stream socketpair, read(2) out of it) (use a pipe mode: write, write-huge, vmsplice, vmsplice-huge, splice, huge, busy)", 2},
		{[]string{"run", "--consume", "--reader-cmd", "wc -c"}, "pipelab: --consume: makes pipelab's reader use every byte, and --reader-cmd replaces it (drop one of the two)", 2},
		{[]string{"ladder", "--modes", "write+fast"}, `pipelab: --modes: write+fast: unknown knob "fast" (a step is a mode with any of +consume, +streaming added)`, 2},
		{[]string{"ladder", "--modes", "write+consume+consume"}, `pipelab: --modes: write+consume+consume: +consume is added twice`, 2},
		{[]string{"ladder", "--modes", "busy,write+streaming"}, `pipelab: --modes write+streaming: --streaming: is how the ring's writer stores into the ring, and mode write has none (drop it, or use mode ring or ring-busy)`, 2},
		{[]string{"compare", "res"}, "pipelab: compare: want two or more result folders, got 1 argument(s) (see pipelab compare --help)", 2},
		{[]string{"compare", "res", "empty"}, "pipelab: read results empty: no pipelab results (no ladder.json and no MODE.json; write some with pipelab profile --out empty or pipelab ladder --out empty)", 2},
		{[]string{"compare", "res", "newer"}, "pipelab: read results newer/ladder.json: unknown format version 3 (this pipelab reads versions 1 to 2; read it with a newer pipelab)", 2},
		{[]string{"compare", "res", "./res"}, "pipelab: compare res ./res: the same folder named twice (name two different result folders)", 2},
		{[]string{"report", "ver2str"}, `pipelab: read results ver2str/ladder.json: "version" is a string, want a whole number`, 2},
		{[]string{"report", "nosteps"}, `pipelab: read results nosteps/ladder.json: "steps" is empty, and the ladder says it finished`, 2},
		{[]string{"compare", "res", "noenv"}, `pipelab: read results noenv/ladder.json: no "env" (the machine the ladder ran on: kernel, CPUs, date)`, 2},
		{[]string{"report", "badstep"}, `pipelab: read results badstep/ladder.json: step 1 (write): "median_gib_s" is a string, want a number`, 2},
		{[]string{"diff", "killed", "res"}, "pipelab: read results killed: no pipelab results: the ladder did not finish (ladder.json still says running; pipelab was killed, or is still running): write and vmsplice have no results (rerun pipelab ladder --replace --out killed)", 2},
		{[]string{"ladder", "--out", "lad"}, "pipelab: --out lad: holds the results of a ladder (lad/ladder.json); this ladder's results would mix with them (choose another folder, or add --replace to replace them)", 2},
		{[]string{"ladder", "--out", "res"}, "pipelab: --out res: holds the results of another run (res/write.json); this ladder's results would mix with them (choose another folder, or add --replace to replace them)", 2},
		{[]string{"profile", "--mode", "splice", "--out", "lad"}, "pipelab: --out lad: holds the results of a ladder (lad/ladder.json); this profile's results would mix with them (choose another folder, or add --replace to replace them)", 2},
		{[]string{"diff", "--output", "res", "kernel.pb.gz", "kernel.pb.gz"}, "pipelab: --output res: is a directory (give a file name, e.g. res/diff.pb.gz)", 2},
		{[]string{"diff", "--output", "nodir/d.pb.gz", "kernel.pb.gz", "kernel.pb.gz"}, "pipelab: --output nodir/d.pb.gz: cannot write in nodir: no such file or directory (choose a writable folder)", 2},
		{[]string{"compare", "--format", "yaml", "res", "empty"}, "pipelab: --format yaml: unknown format (want text, markdown or json)", 2},
	}
}

// TestBadInput checks every row of docs/errors.md's bad-input table: the exact
// line on stderr, the exit status, nothing on stdout, no stack trace.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notprof.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeFixtureProfiles(t, dir)
	writeFixtureResults(t, dir)
	for _, c := range badInputs(dir) {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			stdout, stderr, code := pipelab(t, dir, c.args...)
			if code != c.code {
				t.Errorf("exit status: got %d, want %d", code, c.code)
			}
			if got := strings.TrimSuffix(stderr, "\n"); got != c.want {
				t.Errorf("stderr:\n got %q\nwant %q", got, c.want)
			}
			if stdout != "" {
				t.Errorf("stdout: got %q, want nothing", stdout)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	_, stderr, code := pipelab(t, t.TempDir())
	if code != 2 || !strings.Contains(stderr, "Usage: pipelab COMMAND [flags]") {
		t.Errorf("no arguments: got status %d and %q, want 2 and the usage", code, stderr)
	}
	for _, cmd := range []string{"run", "profile", "ladder", "diff", "flame", "compare", "gup", "report", "doctor"} {
		stdout, _, code := pipelab(t, t.TempDir(), cmd, "--help")
		if code != 0 || !strings.HasPrefix(stdout, "Usage: pipelab "+cmd) {
			t.Errorf("%s --help: got status %d and %.60q, want 0 and its usage", cmd, code, stdout)
		}
	}
}

// writeFixtureProfiles writes three small profiles into dir for diff's bad
// input: user.pb.gz (user frames only), kernel.pb.gz (a kernel frame,
// samples/count and cpu/nanoseconds), count.pb.gz (a kernel frame,
// samples/count only) and nosamples.pb.gz (no samples at all).
func writeFixtureProfiles(t *testing.T, dir string) {
	t.Helper()
	user := &pprof.Mapping{ID: 1, Start: 0x400000, Limit: 0x500000, File: "/usr/bin/true", HasFunctions: true}
	kernel := &pprof.Mapping{ID: 2, Start: 0xffffffff81000000, Limit: 0xffffffff82000000, File: "[kernel.kallsyms]", HasFunctions: true}
	mk := func(name string, m *pprof.Mapping, fn string, types ...string) {
		f := &pprof.Function{ID: 1, Name: fn, SystemName: fn}
		loc := &pprof.Location{ID: 1, Mapping: m, Address: m.Start + 0x10, Line: []pprof.Line{{Function: f}}}
		p := &pprof.Profile{Mapping: []*pprof.Mapping{m}, Function: []*pprof.Function{f}, Location: []*pprof.Location{loc}}
		var vals []int64
		for _, ty := range types {
			typ, unit, _ := strings.Cut(ty, "/")
			p.SampleType = append(p.SampleType, &pprof.ValueType{Type: typ, Unit: unit})
			vals = append(vals, 1)
		}
		if name != "nosamples.pb.gz" {
			p.Sample = []*pprof.Sample{{Location: []*pprof.Location{loc}, Value: vals}}
		}
		if err := p.CheckValid(); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := p.Write(&buf); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("user.pb.gz", user, "main", "samples/count", "cpu/nanoseconds")
	mk("kernel.pb.gz", kernel, "anon_pipe_write", "samples/count", "cpu/nanoseconds")
	mk("count.pb.gz", kernel, "anon_pipe_write", "samples/count")
	mk("nosamples.pb.gz", kernel, "anon_pipe_write", "samples/count")
}

// writeFixtureResults writes two result folders into dir for compare's
// bad input: res (one step, format version 2) and newer (a ladder.json of
// a format version this pipelab does not know).
func writeFixtureResults(t *testing.T, dir string) {
	t.Helper()
	const (
		env  = `{"kernel":"6.18.44","cpu_model":"AMD EPYC","cpus":2,"thp":"madvise","pmu":"software only","go_version":"go1.26","time":"2026-12-06T23:50:00Z"}`
		step = `{"version":2,"mode":"write","bytes":1048576,"repeat":1,"runs":[1.5],"median_gib_s":1.5,"min_gib_s":1.5,"max_gib_s":1.5}`
	)
	files := map[string]string{
		"res/write.json":      step,
		"newer/ladder.json":   `{"version":3,"env":{},"steps":[]}`,
		"lad/ladder.json":     `{"version":2,"env":` + env + `,"planned":["write"],"steps":[` + step + `]}`,
		"ver2str/ladder.json": `{"version":"2","env":` + env + `,"steps":[` + step + `]}`,
		"nosteps/ladder.json": `{"version":2,"env":` + env + `,"steps":[]}`,
		"noenv/ladder.json":   `{"version":2,"steps":[` + step + `]}`,
		"badstep/ladder.json": `{"version":2,"env":` + env + `,"steps":[{"version":2,"mode":"write","median_gib_s":"fast"}]}`,
		"killed/ladder.json":  `{"version":2,"env":` + env + `,"planned":["write","vmsplice"],"status":"running","steps":[]}`,
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// badInputRow is how docs/errors.md's bad-input table shows a case.
func badInputRow(c badInput) string {
	return fmt.Sprintf("| `pipelab %s` | `%s` | %d |", strings.Join(c.args, " "), c.want, c.code)
}

// TestBadInputTable keeps docs/errors.md's bad-input table and
// TestBadInput's cases the same: every case has its row, and every row is
// a case, or names the test that checks it. Run with -v to see the rows to
// paste.
func TestBadInputTable(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "errors.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := make(map[string]bool)
	for _, c := range badInputs(t.TempDir()) {
		row := badInputRow(c)
		t.Log(row)
		rows[row] = true
		if !strings.Contains(string(doc), row+"\n") {
			t.Errorf("docs/errors.md lacks the row\n%s", row)
		}
	}
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "| `pipelab ") && !rows[line] && !strings.Contains(line, "Test") {
			t.Errorf("docs/errors.md has a row that no case of TestBadInput checks\n%s", line)
		}
	}
}
