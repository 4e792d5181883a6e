// Package flame draws flame graphs of pprof profiles: New lays out one
// profile (kernel frames marked, roles as roots), Diff colours a profile
// by each function's change of share against another, and WriteSVG
// renders either as a standalone interactive SVG. It also
// cuts folded stacks (MODE.ROLE.folded) for other flame-graph tools.
//
// flame works on pprof values only: it never reads a result folder and
// never attributes time to the post's symbols beyond colouring them.
package flame
