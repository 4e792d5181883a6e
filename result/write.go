package result

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	pprof "github.com/google/pprof/profile"
)

// Output is one file to write: its name inside the folder and what writes
// its content.
type Output struct {
	Name  string
	Write func(io.Writer) error
}

// ProfileOutput is the output that writes p, gzip-compressed, as name,
// once p has passed CheckValid (pprof's Write does not validate).
func ProfileOutput(name string, p *pprof.Profile) Output {
	return Output{Name: name, Write: func(w io.Writer) error {
		if err := p.CheckValid(); err != nil {
			return fmt.Errorf("invalid profile: %w", err)
		}
		return p.Write(w)
	}}
}

// BytesOutput is the output that writes data, rendered already, as name.
func BytesOutput(name string, data []byte) Output {
	return Output{Name: name, Write: func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}}
}

// WriteFiles writes every output into dir atomically: each goes to a
// temporary file in dir first, and only once all are written are they
// renamed into place, in order. On error no temporary file is left, and no
// file named by an output is half-written: it holds its new content or
// what it held before. An error is a *WriteError that names the file, not
// the temporary one.
func WriteFiles(dir string, outs ...Output) (err error) {
	var tmps []string
	defer func() {
		if err != nil {
			for _, t := range tmps {
				os.Remove(t)
			}
		}
	}()
	for _, o := range outs {
		t, err := writeTemp(dir, o)
		if t != "" {
			tmps = append(tmps, t)
		}
		if err != nil {
			return err
		}
	}
	for i, o := range outs {
		if err := os.Rename(tmps[i], filepath.Join(dir, o.Name)); err != nil {
			return writeError(filepath.Join(dir, o.Name), err)
		}
	}
	return nil
}

// WriteError is a file of a result folder that could not be written:
// Path is the file's name (never the temporary file it was written to
// first), Err the cause, an errno such as syscall.EACCES or
// syscall.ENOSPC when the system gave one.
type WriteError struct {
	Path string
	Err  error
}

func (e *WriteError) Error() string { return "write " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *WriteError) Unwrap() error { return e.Err }

// writeError is a *WriteError for path, with the errno of err when it is
// an *os.PathError or *os.LinkError (whose paths are temporary files').
func writeError(path string, err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return &WriteError{Path: path, Err: err}
}

// writeTemp writes o to a new temporary file in dir and returns its path,
// also on error once the file exists.
func writeTemp(dir string, o Output) (string, error) {
	path := filepath.Join(dir, o.Name)
	t, err := os.CreateTemp(dir, "."+o.Name+".*.tmp")
	if err != nil {
		return "", writeError(path, err)
	}
	werr := o.Write(t)
	err = errors.Join(werr, t.Chmod(0o644), t.Sync(), t.Close())
	if err != nil {
		return t.Name(), writeError(path, err)
	}
	return t.Name(), nil
}

// SaveStep writes a step into dir through WriteFiles: its profiles (by
// artefact: {KindProfile, ""} both roles, {KindProfile, role},
// {KindWall, role} and {KindWakers, role} one role), then the more
// outputs (e.g. folded stacks), and MODE.json last, all or nothing.
func SaveStep(dir string, step *Step, profiles map[Artefact]*pprof.Profile, more ...Output) error {
	var outs []Output
	for a, p := range profiles {
		outs = append(outs, ProfileOutput(a.Name(step.Mode), p))
	}
	slices.SortFunc(outs, func(a, b Output) int { return strings.Compare(a.Name, b.Name) })
	outs = append(outs, more...)
	outs = append(outs, Output{Name: StepFile(step.Mode),
		Write: func(w io.Writer) error { return WriteSteps(w, []Step{*step}) }})
	return WriteFiles(dir, outs...)
}

// SaveLadder writes ladder.json into dir through WriteFiles.
func SaveLadder(dir string, l *Ladder) error {
	return WriteFiles(dir, Output{Name: LadderFile, Write: func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(l)
	}})
}

// WriteSteps writes one JSON object per step, one per line: a MODE.json
// file, and the output of `pipelab run --json`.
func WriteSteps(w io.Writer, steps []Step) error {
	enc := json.NewEncoder(w)
	for _, s := range steps {
		if err := enc.Encode(s); err != nil {
			return err
		}
	}
	return nil
}
