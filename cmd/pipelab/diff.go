package main

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/result"
)

func cmdDiff(ctx context.Context, env *cli, args []string) error {
	format, top, sampleType, output := "text", 20, "", ""
	fs := newFlagSet("diff", "[flags] A B",
		"Compare where the kernel time went in A and in B, per role: each kernel symbol's inclusive\n"+
			"and self share in A, in B, and the change, biggest change first. A and B are pprof\n"+
			"profiles (any pprof file with kernel frames) or result folders holding one profiled step.\n"+
			"The same pair also works with: go tool pprof -diff_base A B")
	fs.StringVar(&format, "format", format, "output `format`: text, markdown or json")
	fs.IntVar(&top, "top", top, "how many symbols to list per role")
	fs.StringVar(&sampleType, "sample-type", sampleType, "sample `type` to compare, e.g. cpu/nanoseconds or samples/count (default: cpu/nanoseconds when present)")
	fs.StringVar(&output, "output", output, "also write the pprof-convention diff profile (A scaled by -1, merged with B) to this `file`")
	if err := fs.parse(env, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("diff: want two profiles or result folders, A and B, got %d argument(s) (see pipelab diff --help)", fs.NArg())
	}
	write, ok := map[string]func(io.Writer, []attribute.RoleDiff) error{
		"text": attribute.WriteDiffText, "markdown": attribute.WriteDiffMarkdown, "json": attribute.WriteDiffJSON,
	}[format]
	if !ok {
		return usagef("--format %s: unknown format (want text, markdown or json)", format)
	}
	if top < 1 {
		return usagef("--top %d: must be at least 1", top)
	}
	if output != "" {
		if err := checkOutputFile("--output", output); err != nil {
			return err
		}
	}
	cmp, err := attribute.DiffFiles(fs.Arg(0), fs.Arg(1), attribute.Options{Top: top, SampleType: sampleType})
	if err != nil {
		return inputError(err)
	}
	for _, arg := range fs.Args() {
		if st, err := os.Stat(arg); err == nil && st.IsDir() {
			warnUnfinished(env, arg)
		}
	}
	a, b, diffs := cmp.A, cmp.B, cmp.Roles
	if output != "" {
		d, err := attribute.DiffProfile(a, b)
		if err != nil {
			return inputError(err)
		}
		if err := result.WriteFiles(filepath.Dir(output), result.ProfileOutput(filepath.Base(output), d)); err != nil {
			return outError(err)
		}
	}
	return write(env.stdout, diffs)
}
