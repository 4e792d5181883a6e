// Package table renders the tables pipelab prints, pprof-style aligned
// text and Markdown, and spells their cells: shares, percentage points,
// sample values by type, durations, GiB/s and speedups. It computes no
// figure of its own.
package table
