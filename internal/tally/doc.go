// Package tally is the model attribute, flame, compare and report build
// on: a sample's stack read as frames (leaf first, kernel or user, kernel
// names without compiler suffixes), the alias table of the post's kernel
// symbols, and a Tally, one walk over a role's samples summing their value
// by kernel symbol, by the post's name and by user function. It reads
// pprof values only: it never opens a file and never renders.
package tally
