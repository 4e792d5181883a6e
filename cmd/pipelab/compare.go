package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/compare"
)

func cmdCompare(ctx context.Context, env *cli, args []string) error {
	format, top, sampleType, out := "text", 8, "", ""
	fs := newFlagSet("compare", "[flags] DIR DIR...",
		"Set two or more result folders side by side, step by step: ladders or folders of profiled\n"+
			"steps, from this machine or copied from others (only the files are read). Per step: each\n"+
			"folder's median GiB/s with its spread, the change against the first folder with a\n"+
			"Mann-Whitney U-test, and per role the kernel symbols whose inclusive share changed most,\n"+
			"matched through the alias table (pipe_write on 5.15 and anon_pipe_write on 6.18 are one\n"+
			"row). The header says where the folders' machines differ; a step measured with different\n"+
			"settings is flagged. With --out DIR: DIR/compare.md, DIR/compare.svg (a grouped bar chart) and,\n"+
			"per step and role profiled in the first folder and another, DIR/MODE.ROLE.vs-N.diff.svg, the\n"+
			"differential flame graph of folder N (counting the first as 0) against the first.")
	fs.StringVar(&format, "format", format, "output `format`: text, markdown or json")
	fs.IntVar(&top, "top", top, "how many symbols to list per step and role")
	fs.StringVar(&sampleType, "sample-type", sampleType, "sample `type` of the symbol shares, e.g. cpu/nanoseconds (default: cpu/nanoseconds when present)")
	fs.StringVar(&out, "out", out, "also write compare.md, compare.svg and the differential flame graphs into this `directory`")
	if err := fs.parse(env, args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return usagef("compare: want two or more result folders, got %d argument(s) (see pipelab compare --help)", fs.NArg())
	}
	write, ok := map[string]func(io.Writer, *compare.Ladders) error{
		"text": compare.WriteText, "json": compare.WriteJSON,
		"markdown": func(w io.Writer, l *compare.Ladders) error { return compare.WriteMarkdown(w, l, "") },
	}[format]
	if !ok {
		return usagef("--format %s: unknown format (want text, markdown or json)", format)
	}
	if top < 1 {
		return usagef("--top %d: must be at least 1", top)
	}
	if out != "" {
		if err := prepareOut(out); err != nil {
			return err
		}
	}
	l, err := compare.Folders(fs.Args(), attribute.Options{Top: top, SampleType: sampleType})
	if err != nil {
		return inputError(err)
	}
	for _, dir := range fs.Args() {
		warnUnfinished(env, dir)
	}
	if out != "" {
		files, err := compare.WriteFiles(out, l)
		if err != nil {
			return inputError(outError(err))
		}
		fmt.Fprintf(env.stderr, "wrote %s\n", strings.Join(files, " "))
	}
	return write(env.stdout, l)
}
