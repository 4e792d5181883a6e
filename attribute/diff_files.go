package attribute

import (
	"errors"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/tally"
	"github.com/pipelab/pipelab/result"
)

// FileDiff is two inputs a user named, read and diffed.
type FileDiff struct {
	// A and B are the profiles read from the two inputs.
	A, B *pprof.Profile
	// Roles is diff(A, B).
	Roles []RoleDiff
}

// DiffFiles reads two inputs (pprof files or one-step result folders, as
// OpenInput) and diffs them. Every bad input is a *FileError that names
// the file at fault: the one that is not a profile or has no kernel
// frames, or both when their sample types differ.
func DiffFiles(pathA, pathB string, opt Options) (*FileDiff, error) {
	a, err := result.OpenInput(pathA)
	if err != nil {
		return nil, err
	}
	b, err := result.OpenInput(pathB)
	if err != nil {
		return nil, err
	}
	ds, err := Diff(a, b, opt)
	var fe *result.FileError
	if errors.As(err, &fe) && fe.Path == "" {
		switch {
		case errors.Is(err, ErrNoKernelFrames) && !tally.HasKernelFrames(a):
			fe.Path = pathA
		case errors.Is(err, ErrNoKernelFrames):
			fe.Path = pathB
		case errors.Is(err, result.ErrSampleTypes) && tally.FindType(a, opt.SampleType) < 0 && opt.SampleType != "":
			fe.Path = pathA
		default:
			fe.Path = pathA + " " + pathB
		}
	}
	if err != nil {
		return nil, err
	}
	return &FileDiff{A: a, B: b, Roles: ds}, nil
}
