// Package svg holds what pipelab's SVG charts share: the throughput
// chart's frame (size, plot area, a y axis in GiB/s with a nice scale)
// and escaped text elements. It draws no chart of its own.
package svg
