package result

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// Replacing a folder's results. A folder is never half old and half new:
// a ladder replaces every result of the folder before it runs, and a
// lone step replaces all of its own files and the files derived from the
// folder's steps together (report.md, the chart, the diff flame graphs).
// The files are found by their names (every artefact's, as Artefact.Name
// spells it, and a *.json only when it holds a step), so a file of the
// user's own in the folder stays.

// resultFile reports whether name, a file of dir, is a result file, and
// of which step ("" for a file of the folder as a whole).
func resultFile(dir, name string) (step string, ok bool) {
	switch name {
	case LadderFile, ReportFile, ChartFile:
		return "", true
	}
	mode, _, found := strings.Cut(name, ".")
	if !found || mode == "" || strings.HasPrefix(mode, "-") {
		return "", false
	}
	if name == StepFile(mode) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", false
		}
		var keys map[string]json.RawMessage
		return mode, json.Unmarshal(data, &keys) == nil && keys["mode"] != nil
	}
	if name == ProfileFile(mode, "") { // the only artefact of both roles but MODE.json
		return mode, true
	}
	for _, k := range []Kind{KindProfile, KindWall, KindWakers, KindFolded, KindFlame, KindOffCPUFlame, KindDiffFlame} {
		for _, role := range []string{"writer", "reader"} {
			if name == (Artefact{k, role}).Name(mode) {
				return mode, true
			}
		}
	}
	return "", false
}

// HasResults reports whether dir holds any result file, and names one.
func HasResults(dir string) (string, bool) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if _, ok := resultFile(dir, e.Name()); ok && e.Type().IsRegular() {
			return e.Name(), true
		}
	}
	return "", false
}

// Clear removes every result file of dir (see resultFile); other files
// stay.
func Clear(dir string) error {
	return clearWhere(dir, func(string, string) bool { return true })
}

// ClearStep removes the files of step mode from dir, and the files made
// from all of the folder's steps together (report.md, throughput.svg,
// every diff flame graph), which would describe the old step.
func ClearStep(dir, mode string) error {
	return clearWhere(dir, func(name, step string) bool {
		return step == mode || step == "" && name != LadderFile || strings.HasSuffix(name, "."+string(KindDiffFlame))
	})
}

func clearWhere(dir string, remove func(name, step string) bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return &WriteError{Path: dir, Err: unwrapPathError(err)}
	}
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if step, ok := resultFile(dir, e.Name()); ok && remove(e.Name(), step) {
			path := filepath.Join(dir, e.Name())
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, &WriteError{Path: path, Err: unwrapPathError(err)})
			}
		}
	}
	return errors.Join(errs...)
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
