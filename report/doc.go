// Package report writes the Markdown report of a result folder
// (Write, what `pipelab report` and `pipelab ladder` run):
// report.md with the throughput table and chart, per step the post's
// symbols, the top kernel symbols, the post's verdict and, for the wall
// view, on-CPU against off-CPU time and the blocking sites; per
// transition what changed; and the flame graphs report.md embeds.
//
// report only assembles: the figures come from attribute, throughput and
// flame, the folder is read and written through result. It works from
// saved files only: it never runs a child process and never imports
// bench, profile or golang.org/x/sys/unix.
package report
