// Package compare sets two or more result folders side by side, step by
// step (what `pipelab compare` shows): where their machines differ, the
// throughput of each step with benchstat's change against the base
// folder, the settings that differ, the kernel symbols whose share changed
// most, and a differential flame graph per step and role.
//
// compare reads folders through result and never writes into them: its
// files go to the folder WriteFiles is given.
package compare
