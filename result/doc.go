// Package result is everything pipelab saves, in one place: the schema of
// a step (Step, Settings, RoleSummary, Counter, CommandStatus, Cost,
// WakeSummary) and of a ladder (Ladder, Env), the exchange format's
// version, the name of every file of a result folder (StepFile,
// ProfileFile, FlameFile, LadderFile, ...), the one writer that puts files
// into a folder (WriteFiles: a temporary file, then a rename, all or
// nothing), and the readers that take a folder or a pprof file back
// (OpenFolder, OpenInput, ReadProfile).
//
// bench, profile, report and cmd/pipelab all import it; it imports none of
// them, never runs a child, never opens a perf event and never renders a
// report. A new saved field is a field here; a new artefact is a Kind and
// a function in files.go.
package result
