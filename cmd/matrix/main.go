// Command matrix boots Debian's cloud kernels (the 6.1 and 6.12 series,
// amd64 and arm64) under QEMU and runs pipelab's end-to-end checks in each
// (package e2e, as a static test binary next to a static pipelab in an
// initramfs). It prints the table of kernel × architecture × check, keeps
// each guest's console and files under --out, compares the guests' ladders
// with `pipelab compare`, and, when it ran the whole matrix, writes
// docs/matrix.md. `make matrix` runs it.
//
// Usage:
//
//	go run ./cmd/matrix [--series 6.1,6.12] [--arch amd64,arm64] [--out matrix-out]
//
// Kernels come from Debian's packages (apt-cache search, apt-get
// download, dpkg -x): the newest of each series served, kept under
// ${XDG_CACHE_HOME:-~/.cache}/pipelab/matrix with busybox-static. Where
// /dev/kvm boots a stock kernel of the host's architecture, the guest runs
// under KVM with the host's CPU, and its ladder's timings are real; else
// under TCG, an emulated CPU, whose timings are not the hardware's.
//
// Exit status: 0 when every check passed, 1 when a guest or check failed,
// 2 for bad input (an unknown series or architecture, QEMU not installed,
// no kernel to be had).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pipelab/pipelab/internal/matrix"
)

func main() { os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr)) }

// options are the command's flags.
type options struct {
	series, arch, out, docs, cache, accel, bytes string
	timeout, bootTimeout                         time.Duration
}

func realMain(args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "matrix: %v\n", err)
		return 2
	}
	targets, err := matrix.Targets(o.series, o.arch)
	if err != nil {
		var ue *matrix.UnknownError
		if errors.As(err, &ue) {
			err = fmt.Errorf("--%s %s", strings.ToLower(ue.Field), err)
		}
		fmt.Fprintf(stderr, "matrix: %v\n", err)
		return 2
	}
	if err := matrix.CheckQEMU(targets); err != nil {
		fmt.Fprintf(stderr, "matrix: %v\n", err)
		return 2
	}
	module, err := moduleRoot()
	if err != nil {
		fmt.Fprintf(stderr, "matrix: %v\n", err)
		return 2
	}
	if o.docs == "" && o.series == "" && o.arch == "" {
		o.docs = filepath.Join(module, "docs", "matrix.md")
	}
	m, err := matrix.Run(matrix.Config{
		Targets: targets, Module: module, Out: o.out, Cache: &matrix.Cache{Dir: o.cache, Apt: matrix.SystemApt{}},
		Accel: o.accel, Bytes: o.bytes, BootTimeout: o.bootTimeout, Timeout: o.timeout, Log: stderr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "matrix: %v\n", err)
		var fe *matrix.FetchError
		if errors.As(err, &fe) || errors.As(err, new(*matrix.QEMUMissingError)) {
			return 2
		}
		return 1
	}
	var md bytes.Buffer
	if err := m.WriteMarkdown(&md); err != nil {
		fmt.Fprintf(stderr, "matrix: %v\n", err)
		return 1
	}
	stdout.Write(md.Bytes())
	if o.docs != "" {
		if err := writeAtomic(o.docs, md.Bytes()); err != nil {
			fmt.Fprintf(stderr, "matrix: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "matrix: wrote %s\n", o.docs)
	}
	if m.Failed() {
		fmt.Fprintf(stderr, "matrix: FAIL: a guest or a check failed (consoles and files under %s)\n", o.out)
		return 1
	}
	return 0
}

func parse(args []string, stderr io.Writer) (options, error) {
	o := options{out: "matrix-out", accel: matrix.AccelAuto, bytes: "64MiB", timeout: 4 * time.Minute, bootTimeout: 2 * time.Minute}
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.series, "series", "", "kernel `series`, comma separated (default: all, "+strings.Join(matrix.KnownSeries(), ", ")+")")
	fs.StringVar(&o.arch, "arch", "", "`architectures`, comma separated (default: all, "+strings.Join(matrix.KnownArches(), ", ")+")")
	fs.StringVar(&o.out, "out", o.out, "`folder` for each guest's console.log and files (its ladder among them)")
	fs.StringVar(&o.docs, "docs", "", "write the Markdown table to this `file` (default: docs/matrix.md when the whole matrix runs)")
	fs.StringVar(&o.cache, "cache", defaultCache(), "`folder` keeping the kernels and busybox between runs")
	fs.StringVar(&o.accel, "accel", o.accel, "`accelerator`: auto (KVM where it boots the kernel, else TCG), kvm or tcg")
	fs.StringVar(&o.bytes, "bytes", o.bytes, "`size` of each transfer in the guests: emulated CPUs run 10-50x slower, and below 64MiB the ladders' profiles have too few samples for compare to meet the renamed symbols in both kernels")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "`time` a guest may take in all before it is stopped as hung")
	fs.DurationVar(&o.bootTimeout, "boot-timeout", o.bootTimeout, "`time` a guest may take to reach its init script")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprintln(stderr, "Usage: go run ./cmd/matrix [flags]\n\nBoot Debian's cloud kernels under QEMU and run pipelab's end-to-end checks in each.\n\nFlags:")
			fs.PrintDefaults()
		}
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%s: unexpected argument (flags only; see --help)", fs.Arg(0))
	}
	switch o.accel {
	case matrix.AccelAuto, matrix.AccelKVM, matrix.AccelTCG:
	default:
		return o, fmt.Errorf("--accel %s: unknown accelerator (known: auto, kvm, tcg)", o.accel)
	}
	if o.timeout <= o.bootTimeout {
		return o, fmt.Errorf("--timeout %v: must be longer than --boot-timeout %v", o.timeout, o.bootTimeout)
	}
	return o, nil
}

// defaultCache is ${XDG_CACHE_HOME:-~/.cache}/pipelab/matrix.
func defaultCache() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "pipelab", "matrix")
}

// moduleRoot finds pipelab's go.mod from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module github.com/pipelab/pipelab\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside pipelab's module (run it from the repository: make matrix)")
		}
		dir = parent
	}
}

// writeAtomic writes data to path through a temporary file and a rename.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".matrix-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
