package result

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Reading a folder that was cut short or edited by hand: every problem is
// said in one line that names the file, the step and the field, e.g.
// `step 2 (vmsplice): "median_gib_s" is a string, want a number`.

// decodeLadder reads ladder.json strictly: valid JSON, every field of the
// type the format gives it, an env, and steps each with a mode that is a
// plain name.
func decodeLadder(data []byte) (*Ladder, error) {
	var raw struct {
		Ladder
		Env   json.RawMessage   `json:"env"`
		Steps []json.RawMessage `json:"steps"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, jsonProblem(data, err, "")
	}
	l := raw.Ladder
	if err := checkVersion(l.Version); err != nil {
		return nil, err
	}
	switch l.Status {
	case "", StatusRunning, StatusInterrupted, StatusFailed:
	default:
		return nil, fmt.Errorf(`"status" is %q, want %q, %q or none`, l.Status, StatusRunning, StatusInterrupted)
	}
	if isNull(raw.Env) {
		return nil, errors.New(`no "env" (the machine the ladder ran on: kernel, CPUs, date)`)
	}
	if err := json.Unmarshal(raw.Env, &l.Env); err != nil {
		return nil, jsonProblem(raw.Env, err, "env.")
	}
	if raw.Steps == nil && l.Status == "" {
		return nil, errors.New(`no "steps"`)
	}
	for i, rs := range raw.Steps {
		s, err := decodeStep(rs)
		if err != nil {
			return nil, fmt.Errorf("step %d%s: %w", i+1, stepMode(rs), err)
		}
		l.Steps = append(l.Steps, *s)
	}
	if len(l.Steps) == 0 && l.Status == "" {
		return nil, errors.New(`"steps" is empty, and the ladder says it finished`)
	}
	var ne *NameError
	for _, m := range l.Planned {
		if err := CheckName(m); errors.As(err, &ne) {
			return nil, fmt.Errorf(`"planned" step %q %s`, m, ne.Problem)
		}
	}
	return &l, nil
}

// decodeStep reads one step strictly (see decodeLadder).
func decodeStep(data []byte) (*Step, error) {
	var s Step
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, jsonProblem(data, err, "")
	}
	if err := checkVersion(s.Version); err != nil {
		return nil, err
	}
	if s.Mode == "" {
		return nil, errors.New(`no "mode"`)
	}
	var ne *NameError
	if err := CheckName(s.Mode); errors.As(err, &ne) {
		return nil, fmt.Errorf(`"mode" %q %s`, s.Mode, ne.Problem)
	}
	return &s, nil
}

// stepMode is " (MODE)" for a step whose mode can be read, else "".
func stepMode(data []byte) string {
	var m struct {
		Mode string `json:"mode"`
	}
	if json.Unmarshal(data, &m) != nil || m.Mode == "" {
		return ""
	}
	return " (" + m.Mode + ")"
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// jsonProblem says what json.Unmarshal found wrong in data: where the
// syntax breaks, or which field has a value of the wrong type (its path
// after prefix).
func jsonProblem(data []byte, err error, prefix string) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case errors.As(err, &pe):
		return fmt.Errorf("%q is %q, want a time such as \"2026-12-06T23:50:00Z\"", prefix+"time", pe.Value)
	case errors.As(err, &se):
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Errorf("not valid JSON: %v (line %d)", se, line)
	case errors.As(err, &te):
		field := strings.TrimPrefix(te.Field, "Ladder.") // the embedded struct of decodeLadder
		if field == "" {
			return fmt.Errorf("is %s, want an object", jsonKind(te.Value))
		}
		if i := strings.LastIndex(field, "steps."); i >= 0 {
			field = field[i+len("steps."):] // the step is named by the caller
		}
		return fmt.Errorf("%q is %s, want %s", prefix+field, jsonKind(te.Value), goKind(te.Type))
	}
	return fmt.Errorf("not valid JSON: %v", err)
}

// jsonKind renders the kind of JSON value json.UnmarshalTypeError
// reports ("string", "number", "array", ...) with its article.
func jsonKind(v string) string {
	switch {
	case v == "array" || v == "object":
		return "an " + v
	case strings.HasPrefix(v, "number"):
		return "a number (" + strings.TrimSpace(strings.TrimPrefix(v, "number")) + ")"
	}
	return "a " + v
}

// goKind says what JSON value a Go type takes.
func goKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	if t.String() == "time.Time" {
		return "a time such as \"2026-12-06T23:50:00Z\""
	}
	return "an object"
}

// Unfinished says in one line what the folder lacks because its ladder
// did not finish, e.g. "the ladder was interrupted: splice and busy have
// no results; vmsplice has 1 of 6 runs"; "" for a ladder that ran all
// it planned, and for a folder of lone steps (each step says itself
// whether it is incomplete or interrupted).
func (f *Folder) Unfinished() string {
	l := f.Ladder
	if l == nil {
		return ""
	}
	var why string
	switch l.Status {
	case StatusRunning:
		why = "the ladder did not finish (ladder.json still says running; pipelab was killed, or is still running)"
	case StatusInterrupted:
		why = "the ladder was interrupted (SIGINT or SIGTERM)"
	case StatusFailed:
		why = "the ladder failed part way"
	}
	var missing, short []string
	for _, m := range l.Planned {
		s := f.Step(m)
		switch {
		case s == nil:
			missing = append(missing, m)
		case s.Repeat > 0 && len(s.Runs) < s.Repeat:
			short = append(short, fmt.Sprintf("%s has %d of %d runs", m, len(s.Runs), s.Repeat))
		}
	}
	if why == "" && len(missing) == 0 {
		return ""
	}
	if why == "" {
		why = "the ladder is missing steps it planned"
	}
	var parts []string
	switch len(missing) {
	case 0:
	case 1:
		parts = append(parts, missing[0]+" has no results")
	default:
		parts = append(parts, strings.Join(missing[:len(missing)-1], ", ")+" and "+missing[len(missing)-1]+" have no results")
	}
	parts = append(parts, short...)
	if len(parts) == 0 {
		return why
	}
	return why + ": " + strings.Join(parts, "; ")
}
