package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/gup"
	"github.com/pipelab/pipelab/result"
)

func cmdGup(ctx context.Context, env *cli, args []string) error {
	o := gup.Options{BufSize: 256 << 10, Bytes: 1 << 30}
	from := "pipelab-out"
	fs := newFlagSet("gup", "[flags]",
		"Time get_user_pages_fast, the page walk vmsplice does for every page it puts into a pipe, with\n"+
			"the kernel's own benchmark (the GUP_FAST_BENCHMARK ioctl on "+gup.Path+", as the post's\n"+
			"get-user-pages.cpp): calls of one buffer half each, until --bytes are walked, on small pages and\n"+
			"on a huge page; prints µs per call and ns per 4 KiB page side by side. Needs a kernel built\n"+
			"with CONFIG_GUP_TEST=y and debugfs mounted. Without it, says so, exits 2, and prints instead\n"+
			"the figure derived from the samples of the profiled steps in --from.")
	fs.Var(intSize{&o.BufSize}, "buf-size", "`size` of the buffer; each call walks one half (the post's 256KiB)")
	fs.Var(sizeValue{&o.Bytes}, "bytes", "`size` to walk in all, e.g. 1GiB")
	fs.StringVar(&from, "from", from, "result `folder` whose profiled steps give the sample-derived figure when the kernel has no gup_test")
	if err := fs.parse(env, args); err != nil {
		return err
	}
	if err := checkArgs(fs); err != nil {
		return err
	}
	if o.BufSize < 8<<10 || o.BufSize%(8<<10) != 0 {
		return usagef("--buf-size %d: want two halves of whole 4KiB pages (a multiple of 8KiB, e.g. 256KiB)", o.BufSize)
	}
	if err := gup.Probe(); err != nil {
		if errors.Is(err, gup.ErrNotSupported) {
			printSampledGUP(env.stdout, from)
			return usagef("gup: %v", err)
		}
		return fmt.Errorf("gup: %w", err)
	}
	var rows []gupRow
	for _, huge := range []bool{false, true} {
		o.Huge = huge
		r, err := gup.Run(o)
		if err != nil {
			return fmt.Errorf("gup: %w", err)
		}
		rows = append(rows, gupRow{huge, r})
	}
	return writeGUP(env.stdout, o, rows)
}

type gupRow struct {
	huge bool
	r    gup.Result
}

// writeGUP prints the benchmark's table: one row per buffer kind.
func writeGUP(w io.Writer, o gup.Options, rows []gupRow) error {
	fmt.Fprintf(w, "get_user_pages_fast over a %s buffer, one half per call, %s in all (GUP_FAST_BENCHMARK)\n", bench.FormatSize(int64(o.BufSize)), bench.FormatSize(o.Bytes))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "buffer\tpages/call\tcalls\tµs/call\tns/page\t")
	for _, r := range rows {
		kind := "small pages"
		if r.huge {
			kind = "huge page"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.1f\t\n", kind, r.r.PagesPerCall, r.r.Calls, r.r.MicrosPerCall(), r.r.NanosPerPage())
	}
	return tw.Flush()
}

// printSampledGUP prints what pipelab offers without gup_test:
// get_user_pages_fast's sampled time per page in the profiled steps of
// the folder dir, or how to get some.
func printSampledGUP(w io.Writer, dir string) {
	fmt.Fprintf(w, "instead, get_user_pages_fast's time per 4 KiB page derived from the samples of the steps profiled in %s:\n", dir)
	n := 0
	if f, err := result.OpenFolder(dir); err == nil {
		for _, s := range f.Steps {
			p, err := f.StepProfile(s.Mode)
			if err != nil || p == nil {
				continue
			}
			for _, d := range attribute.Derive(s, p) {
				if d.Post == "get_user_pages_fast" {
					pages := "small pages"
					if s.Huge {
						pages = "huge pages"
					}
					fmt.Fprintf(w, "  %s (%s): %s\n", s.Mode, pages, d)
					n++
				}
			}
		}
	}
	if n == 0 {
		fmt.Fprintf(w, "  none there; profile the steps that pin pages: pipelab ladder --modes splice,huge --out %s\n", dir)
	}
}
