// Package throughput summarises the runs of each step the way benchstat
// does (golang.org/x/perf/benchmath): median, confidence interval or range,
// the change from the previous step with a Mann-Whitney U-test, and the
// post's figure per mode. It renders the rows as text, Markdown, CSV (the
// columns of the post's measure.py) and an SVG bar chart.
//
// throughput reads result.Step values only: it never opens a profile.
package throughput
