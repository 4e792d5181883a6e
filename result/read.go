package result

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	pprof "github.com/google/pprof/profile"
)

// Sentinels for bad input. Every error of this package that wraps one of
// them is also a *FileError, so callers can tell bad input (exit status 2)
// from a failure.
var (
	// ErrNotProfile means the bytes are not a pprof profile.
	ErrNotProfile = errors.New("not a pprof profile")
	// ErrSampleTypes means two profiles have different sample types, or
	// one lacks the sample type a question needs.
	ErrSampleTypes = errors.New("different sample types")
	// ErrNoResults means a folder holds no pipelab results.
	ErrNoResults = errors.New("no pipelab results")
)

// FileError is bad input: a file or folder the user named that pipelab
// cannot use. cmd/pipelab exits with status 2 on it.
type FileError struct {
	// Op is what report was doing, e.g. "read profile".
	Op string
	// Path is the file or folder; empty when the input was not a file.
	Path string
	// Err is the cause; it usually wraps one of the Err* sentinels.
	Err error
}

// Error returns "op path: cause".
func (e *FileError) Error() string {
	if e.Path == "" {
		return e.Op + ": " + e.Err.Error()
	}
	return e.Op + " " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// maxProfileBytes bounds what readProfile accepts, compressed or not; a
// variable so tests can lower it.
var maxProfileBytes = 1 << 30

// ReadProfile parses a pprof profile, gzip-compressed or not, from r.
// Input that is not a profile yields a *FileError wrapping ErrNotProfile.
func ReadProfile(r io.Reader) (*pprof.Profile, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(maxProfileBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	return parseProfile(data)
}

func parseProfile(data []byte) (p *pprof.Profile, err error) {
	bad := func(why string) error {
		why = strings.Join(strings.Fields(why), " ") // one line, whatever the parser said
		return &FileError{Op: "read profile", Err: fmt.Errorf("%w (%s; give a .pb.gz file written by pipelab profile or go tool pprof -proto)", ErrNotProfile, why)}
	}
	if len(data) > maxProfileBytes {
		return nil, bad("larger than " + SizeName(int64(maxProfileBytes)))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, bad("empty file")
	}
	if isGzip(data) {
		// Decompress here, bounded: pprof's own reader would inflate a
		// small gzip bomb without limit.
		if data, err = gunzip(data); err != nil {
			return nil, bad(err.Error())
		}
	}
	defer func() {
		// The legacy text parsers inside pprof are not hardened against
		// every input; a panic there is bad input, not a crash.
		if r := recover(); r != nil {
			p, err = nil, bad(fmt.Sprint("parser panic: ", r))
		}
	}()
	p, err = pprof.ParseData(data)
	if err != nil {
		return nil, bad(err.Error())
	}
	if len(p.SampleType) == 0 {
		return nil, bad("no sample types")
	}
	return p, nil
}

func isGzip(data []byte) bool { return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b }

// gunzip inflates data, refusing more than maxProfileBytes.
func gunzip(data []byte) ([]byte, error) {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decompressing profile: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(gz, int64(maxProfileBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("decompressing profile: %w", err)
	}
	if len(out) > maxProfileBytes {
		return nil, errors.New("larger than " + SizeName(int64(maxProfileBytes)) + " once decompressed")
	}
	return out, nil
}

// OpenProfile reads the pprof profile at path; bad input is a *FileError
// that names it.
func OpenProfile(path string) (*pprof.Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	defer f.Close()
	p, err := ReadProfile(f)
	var fe *FileError
	if errors.As(err, &fe) {
		fe.Path = path
	}
	return p, err
}

// Folder is a result folder written by `pipelab profile --out DIR` or
// `pipelab ladder --out DIR`.
type Folder struct {
	// Dir is the folder's path.
	Dir string
	// Ladder is the content of ladder.json, nil when there is none.
	Ladder *Ladder
	// Steps are the ladder's steps, or else the MODE.json files sorted by
	// mode.
	Steps []Step
}

// OpenFolder reads the results in dir: ladder.json if present, else every
// MODE.json. A folder with neither yields a *FileError wrapping
// ErrNoResults.
func OpenFolder(dir string) (*Folder, error) {
	f := &Folder{Dir: dir}
	data, err := os.ReadFile(filepath.Join(dir, LadderFile))
	switch {
	case err == nil:
		l, err := decodeLadder(data)
		if err != nil {
			return nil, &FileError{Op: "read results", Path: filepath.Join(dir, LadderFile), Err: err}
		}
		f.Ladder, f.Steps = l, l.Steps
	case errors.Is(err, os.ErrNotExist):
		if f.Steps, err = readStepFiles(dir); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("read results: %w", err)
	}
	if len(f.Steps) == 0 && f.Ladder != nil {
		return nil, &FileError{Op: "read results", Path: dir, Err: fmt.Errorf("%w: %s (rerun pipelab ladder --replace --out %s)", ErrNoResults, f.Unfinished(), dir)}
	}
	if len(f.Steps) == 0 {
		return nil, &FileError{Op: "read results", Path: dir, Err: fmt.Errorf("%w (no ladder.json and no MODE.json; write some with pipelab profile --out %s or pipelab ladder --out %s)", ErrNoResults, dir, dir)}
	}
	return f, nil
}

// readStepFiles reads every *.json file of dir that holds a Step.
func readStepFiles(dir string) ([]Step, error) {
	names, err := filepath.Glob(filepath.Join(dir, StepFile("*")))
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	if _, err := os.Stat(dir); err != nil {
		if pe, ok := err.(*os.PathError); ok {
			err = pe.Err
		}
		return nil, &FileError{Op: "read results", Path: dir, Err: err}
	}
	sort.Strings(names)
	var steps []Step
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read results: %w", err)
		}
		var keys map[string]json.RawMessage
		if json.Unmarshal(data, &keys) != nil || keys["mode"] == nil {
			continue // not a step: some other JSON file
		}
		st, err := decodeStep(data)
		if err != nil {
			return nil, &FileError{Op: "read results", Path: name, Err: err}
		}
		steps = append(steps, *st)
	}
	return steps, nil
}

// StepProfile returns the profile of one step of the folder holding both
// roles: MODE.pb.gz, or else MODE.writer.pb.gz and MODE.reader.pb.gz
// merged. It returns nil and no error when the step was not profiled.
func (f *Folder) StepProfile(mode string) (*pprof.Profile, error) {
	both := filepath.Join(f.Dir, ProfileFile(mode, ""))
	if _, err := os.Stat(both); err == nil {
		return OpenProfile(both)
	}
	var parts []*pprof.Profile
	var paths []string
	for _, role := range []string{"writer", "reader"} {
		path := filepath.Join(f.Dir, ProfileFile(mode, role))
		if _, err := os.Stat(path); err != nil {
			continue
		}
		p, err := OpenProfile(path)
		if err != nil {
			return nil, err
		}
		labelRole(p, role)
		parts, paths = append(parts, p), append(paths, path)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	return mergeProfiles(parts, paths)
}

// labelRole gives every sample without a role label the given role.
func labelRole(p *pprof.Profile, role string) {
	for _, s := range p.Sample {
		if len(s.Label["role"]) == 0 {
			if s.Label == nil {
				s.Label = map[string][]string{}
			}
			s.Label["role"] = []string{role}
		}
	}
}

// mergeProfiles merges the role profiles of one step, read from paths.
func mergeProfiles(parts []*pprof.Profile, paths []string) (*pprof.Profile, error) {
	const remedy = "the roles of one step come from one pipelab profile run; rerun the step"
	for i, p := range parts[1:] {
		if ta, tb := SampleTypes(parts[0]), SampleTypes(p); ta != tb {
			return nil, &FileError{Op: "merge profiles", Path: paths[0] + " " + paths[i+1], Err: fmt.Errorf("%w (%s vs %s; %s)", ErrSampleTypes, ta, tb, remedy)}
		}
	}
	p, err := pprof.Merge(parts)
	if err != nil {
		return nil, &FileError{Op: "merge profiles", Path: strings.Join(paths, " "), Err: fmt.Errorf("%w (%v; %s)", ErrSampleTypes, err, remedy)}
	}
	return p, nil
}

// OpenInput reads what a user named on the command line: a pprof file, or
// a result folder holding exactly one profiled step.
func OpenInput(path string) (*pprof.Profile, error) {
	st, err := os.Stat(path)
	if err != nil {
		if pe, ok := err.(*os.PathError); ok {
			err = pe.Err
		}
		return nil, &FileError{Op: "read profile", Path: path, Err: err}
	}
	if !st.IsDir() {
		return OpenProfile(path)
	}
	f, err := OpenFolder(path)
	if err != nil {
		return nil, err
	}
	var modes []string
	for _, s := range f.Steps {
		modes = append(modes, s.Mode)
	}
	if len(modes) != 1 {
		return nil, &FileError{Op: "read results", Path: path, Err: fmt.Errorf("holds %d steps (%s; name one profile, e.g. %s)", len(modes), strings.Join(modes, ", "), filepath.Join(path, ProfileFile(modes[0], "")))}
	}
	p, err := f.StepProfile(modes[0])
	if err == nil && p == nil {
		err = &FileError{Op: "read results", Path: path, Err: fmt.Errorf("%w (step %s has no profile; make one with pipelab profile --mode %s --out %s)", ErrNoResults, modes[0], modes[0], path)}
	}
	return p, err
}

// SameSampleTypes returns an error wrapping ErrSampleTypes unless a and b
// have the same sample types in the same order.
func SameSampleTypes(a, b *pprof.Profile) error {
	ta, tb := SampleTypes(a), SampleTypes(b)
	if ta != tb {
		return fmt.Errorf("%w (%s vs %s; compare profiles of the same kind)", ErrSampleTypes, ta, tb)
	}
	return nil
}

// SampleTypes lists p's sample types, "samples/count, cpu/nanoseconds".
func SampleTypes(p *pprof.Profile) string {
	var s []string
	for _, t := range p.SampleType {
		s = append(s, t.Type+"/"+t.Unit)
	}
	return strings.Join(s, ", ")
}

// OffCPUType is the sample type of a wall profile's off-CPU time
// (MODE.ROLE.wall.pb.gz): each sleep charged to the stack at switch-out.
const OffCPUType = "offcpu/nanoseconds"

// WallProfiles reads the wall profiles of step by role
// (RoleSummary.WallProfile, else MODE.ROLE.wall.pb.gz when it exists),
// each sample labelled with its role.
func (f *Folder) WallProfiles(step Step) (map[string]*pprof.Profile, error) {
	profiles := map[string]*pprof.Profile{}
	for _, r := range step.Roles {
		name := r.WallProfile
		if name == "" {
			name = WallFile(step.Mode, r.Role)
		}
		path := filepath.Join(f.Dir, name)
		if _, err := os.Stat(path); err != nil {
			if r.WallProfile != "" {
				return nil, &FileError{Op: "read wall profile", Path: path, Err: fmt.Errorf("%w (the results name it as the %s's wall profile; rerun the step with --view wall)", os.ErrNotExist, r.Role)}
			}
			continue
		}
		p, err := OpenProfile(path)
		if err != nil {
			return nil, err
		}
		if !hasSampleType(p, OffCPUType) {
			return nil, &FileError{Op: "read wall profile", Path: path, Err: fmt.Errorf("%w (no sample type %s; the profile has %s; a wall profile comes from pipelab profile --view wall)", ErrSampleTypes, OffCPUType, SampleTypes(p))}
		}
		labelRole(p, r.Role)
		profiles[r.Role] = p
	}
	return profiles, nil
}

func hasSampleType(p *pprof.Profile, typ string) bool {
	for _, t := range p.SampleType {
		if t.Type+"/"+t.Unit == typ {
			return true
		}
	}
	return false
}

// SizeName spells a size in bytes as reports and messages write it: the
// largest binary unit that divides it, "1 GiB", "256 KiB", "1000 bytes".
func SizeName(b int64) string {
	for _, u := range []struct {
		shift int
		name  string
	}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if b > 0 && b%(1<<u.shift) == 0 {
			return strconv.FormatInt(b>>u.shift, 10) + " " + u.name
		}
	}
	return strconv.FormatInt(b, 10) + " bytes"
}

// Step returns the folder's step of mode, nil when it has none.
func (f *Folder) Step(mode string) *Step {
	for i := range f.Steps {
		if f.Steps[i].Mode == mode {
			return &f.Steps[i]
		}
	}
	return nil
}

// WithPath fills in path as the Path of err when err is a *FileError that
// names none, and returns err.
func WithPath(err error, path string) error {
	var fe *FileError
	if errors.As(err, &fe) && fe.Path == "" {
		fe.Path = path
	}
	return err
}
