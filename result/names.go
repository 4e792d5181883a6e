package result

import (
	"fmt"
	"strings"
)

// Step names. A step's name starts every file name of the step
// (MODE.ROLE.svg, MODE.json, ...), so a name is a plain word: letters,
// digits, '_', '-' and '+' (a mode with a knob, such as write+consume),
// not starting with '-'. A dot is refused because it
// separates the parts of a file name: a step named write.writer would
// write write.writer.svg, the flame graph of the write step's writer.
// And the names of a folder's steps, taken together, must give every
// artefact of the folder a name of its own (CheckFolder).

// MaxNameBytes bounds a step's name, so that its longest file name
// (FROM-TO.ROLE.diff.svg) stays far below a file system's 255 bytes.
const MaxNameBytes = 64

// NameError says why a step's name is refused.
type NameError struct {
	// Name is the name refused.
	Name string
	// Problem says what is wrong with it, e.g. "holds a dot".
	Problem string
}

func (e *NameError) Error() string { return e.Name + ": " + e.Problem }

// CheckName returns a *NameError unless name is a plain word that can
// start a step's file names.
func CheckName(name string) error {
	problem := ""
	switch {
	case name == "":
		problem = "is empty"
	case strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0):
		problem = "holds a path separator"
	case strings.HasPrefix(name, "."):
		problem = "starts with a dot"
	case strings.Contains(name, "."):
		before, _, _ := strings.Cut(name, ".")
		problem = fmt.Sprintf("holds a dot, so its files %s.* could pass for step %s's", name, before)
	case strings.HasPrefix(name, "-"):
		problem = "starts with -"
	case len(name) > MaxNameBytes:
		problem = fmt.Sprintf("is longer than %d bytes", MaxNameBytes)
	default:
		for _, r := range name {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '+') {
				problem = fmt.Sprintf("holds %q, which is not a letter, a digit, _, - or +", r)
				break
			}
		}
	}
	if problem == "" {
		return nil
	}
	return &NameError{Name: name, Problem: problem}
}

// CollisionError says that two artefacts of one folder would have the
// same file name.
type CollisionError struct {
	// File is the file name both would have.
	File string
	// What and Other are the two: "a file of step ladder", "the ladder's
	// own", "the write → write-huge diff flame graph", ...
	What, Other string
}

func (e *CollisionError) Error() string {
	return fmt.Sprintf("%s would be both %s and %s", e.File, e.What, e.Other)
}

// CheckFolder returns a *CollisionError if two artefacts of a folder
// holding steps, in this order (a ladder's), would have the same file
// name: a step named ladder (ladder.json), or names with '-' whose
// transitions meet (write-write → huge and write → write-huge both give
// write-write-huge.ROLE.diff.svg).
func CheckFolder(steps []string) error {
	owner := map[string]string{LadderFile: "the ladder's own", ReportFile: "the ladder's own", ChartFile: "the ladder's own"}
	claim := func(file, what string) error {
		if other, ok := owner[file]; ok && other != what {
			return &CollisionError{File: file, What: what, Other: other}
		}
		owner[file] = what
		return nil
	}
	kinds := []Kind{KindStep, KindProfile, KindWall, KindWakers, KindFolded, KindFlame, KindOffCPUFlame}
	for i, s := range steps {
		for _, k := range kinds {
			for _, role := range []string{"", "writer", "reader"} {
				if err := claim(Artefact{k, role}.Name(s), "a file of step "+s); err != nil {
					return err
				}
			}
		}
		if i == 0 {
			continue
		}
		for _, role := range []string{"writer", "reader"} {
			what := fmt.Sprintf("the %s → %s diff flame graph", steps[i-1], s)
			if err := claim(DiffFlameFile(steps[i-1], s, role), what); err != nil {
				return err
			}
		}
	}
	return nil
}
