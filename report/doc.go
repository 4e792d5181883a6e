// Package report turns what pipelab saved into answers: it reads pprof
// profiles (pipelab's own or any pprof file with kernel frames) and result
// folders, attributes time to the kernel symbols named in "How fast are
// Linux pipes anyway?" through an alias table that knows their renames
// across kernel versions, diffs two profiles or two steps, and renders
// throughput tables (text, JSON, CSV), folded stacks, an SVG bar chart and
// the Markdown report of a ladder (WriteReport): per step the post's
// symbols and the top kernel symbols, per transition what changed, and,
// for the wall view, on-CPU against off-CPU time and the blocking sites.
//
// report works from saved files and plain data only: it never runs a
// child process and never imports bench, profile or golang.org/x/sys/unix.
// Functions compute rows first; separate writers render them.
package report
