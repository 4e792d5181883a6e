package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/report"
	"github.com/pipelab/pipelab/result"
)

// cmdReport is pipelab report: it rebuilds report.md of a saved folder.
func cmdReport(ctx context.Context, env *cli, args []string) error {
	fs := newFlagSet("report", "DIR",
		"Rebuild DIR/report.md, DIR/throughput.svg and the flame graphs report.md embeds from a saved\n"+
			"ladder folder (ladder.json, MODE.json and the profiles), without running anything.")
	if err := fs.parse(env, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("report: want one result folder, got %d argument(s) (see pipelab report --help)", fs.NArg())
	}
	if err := buildReport(fs.Arg(0)); err != nil {
		return inputError(outError(err))
	}
	warnUnfinished(env, fs.Arg(0))
	fmt.Fprintln(env.stdout, filepath.Join(fs.Arg(0), result.ReportFile))
	return nil
}

// warnUnfinished says on stderr, in one line, what the result folder dir
// lacks because its ladder did not finish; nothing for a finished one.
func warnUnfinished(env *cli, dir string) {
	if f, err := result.OpenFolder(dir); err == nil {
		if u := f.Unfinished(); u != "" {
			fmt.Fprintf(env.stderr, "pipelab: warning: %s: %s\n", dir, u)
		}
	}
}

// buildReport (re)writes DIR/report.md and DIR/throughput.svg from the
// results saved in dir.
func buildReport(dir string) error {
	return report.Write(dir, attribute.Options{})
}

// inputError turns bad input of the packages that read files (a
// *result.FileError) into a usage error (exit 2).
func inputError(err error) error {
	var fe *result.FileError
	if errors.As(err, &fe) {
		return &usageError{err.Error()}
	}
	return err
}
