package compare

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/internal/tally"
	"github.com/pipelab/pipelab/result"
	"github.com/pipelab/pipelab/throughput"
	"golang.org/x/perf/benchmath"
)

// errSameFolder means a folder was named twice for a comparison.
var errSameFolder = errors.New("the same folder named twice")

// Ladders is two or more result folders set side by side, step by step:
// what `pipelab compare` shows. The first folder is the base.
type Ladders struct {
	// Folders describe the folders in the order given.
	Folders []LadderFolder `json:"folders"`
	// Machine says where the folders' environments differ, e.g. "same
	// machine, kernel 6.17.2 vs 6.18.4".
	Machine string `json:"machine"`
	// EnvDiffs are the environment fields that differ, one per field.
	EnvDiffs []FieldDiff `json:"env_diffs,omitempty"`
	// Steps are the union of the folders' steps: the base's in its order,
	// then the others' new steps in the order they first appear.
	Steps []LadderStep `json:"steps"`
	// SampleType is the sample type the symbol shares are of.
	SampleType string `json:"sample_type,omitempty"`
}

// LadderFolder is one folder of a comparison.
type LadderFolder struct {
	// Name is the folder as the user named it; it heads its columns.
	Name string `json:"name"`
	// Env is what the folder recorded of its machine (ladder.json's env,
	// else the first step's); nil when it recorded none (format version 1
	// without ladder.json).
	Env *result.Env `json:"env,omitempty"`
	// Version is the folder's format version (1 for files without one).
	Version int `json:"version"`
	// Ceilings are the limits the folder measured beside its steps
	// (ladder.json's, else result.Ceilings of its steps): each folder's
	// steps are set against its own.
	Ceilings []result.Ceiling `json:"ceilings,omitempty"`
}

// FieldDiff is one field whose value is not the same in every folder.
type FieldDiff struct {
	// Field is the field's name, e.g. "kernel" or "pipe_size".
	Field string `json:"field"`
	// Values holds the value per folder, "" where unknown or missing.
	Values []string `json:"values"`
}

// LadderStep is one step (mode) across the folders.
type LadderStep struct {
	Mode string `json:"mode"`
	// Cells hold one entry per folder, in folder order.
	Cells []LadderCell `json:"cells"`
	// Settings are the step's settings that differ between the folders
	// that have it: the step was not measured the same way, so its change
	// is flagged.
	Settings []FieldDiff `json:"settings,omitempty"`
	// Roles hold, per role, the kernel symbols whose inclusive share
	// changed most across the folders.
	Roles []RoleSymbols `json:"roles,omitempty"`
	// Notes say why some folder's symbols are not compared.
	Notes []string `json:"notes,omitempty"`
	// Flames are the differential flame graphs written for the step
	// (WriteFiles only).
	Flames []LadderFlame `json:"flames,omitempty"`
}

// LadderCell is one folder's result for one step.
type LadderCell struct {
	// Missing is set when the folder has no such step; the other fields
	// are zero then.
	Missing bool `json:"missing,omitempty"`
	// Throughput is the step's median, spread and range, as in the
	// throughput table (its Mode, N, Median, Min, Max, Spread).
	Throughput throughput.Row `json:"throughput"`
	// Delta is benchstat's change from the base folder's runs of the step,
	// e.g. "+7.50%", or "~" when a Mann-Whitney U-test cannot tell them
	// apart at alpha 0.05; P is its p-value. Empty for the base folder and
	// when either has no runs or the base lacks the step.
	Delta string  `json:"delta,omitempty"`
	P     float64 `json:"p,omitempty"`
	// Ratio is Median over the base folder's median; 0 when not compared.
	Ratio float64 `json:"ratio,omitempty"`
	// FewRuns is set when this folder or the base has fewer runs of the
	// step than a U-test needs to reach alpha 0.05.
	FewRuns bool `json:"few_runs,omitempty"`
	// Profiled is set when the folder has a CPU profile of the step with
	// kernel frames.
	Profiled bool `json:"profiled,omitempty"`
	// SettingsDiffer is set when the folder ran the step with settings
	// other than the base folder's (LadderStep.Settings says which), so
	// its change is not the machine's alone.
	SettingsDiffer bool `json:"settings_differ,omitempty"`
}

// RoleSymbols are one role's kernel symbols across the folders.
type RoleSymbols struct {
	Role    string         `json:"role"`
	Symbols []SymbolSeries `json:"symbols"`
}

// SymbolSeries is one kernel symbol, one entry of the alias table, or
// one job of tally.Routines, in every folder: the post's pipe_write on
// 5.15 and anon_pipe_write on 6.18 are one SymbolSeries, and so are the
// user copy's copy_user_enhanced_fast_string on 6.1 and
// rep_movs_alternative on 6.12.
type SymbolSeries struct {
	// Post is the post's name when the alias table has the symbol.
	Post string `json:"post,omitempty"`
	// Routine is the job of tally.Routines the symbols do ("user copy").
	Routine string `json:"routine,omitempty"`
	// Names are the real symbols per folder, as each profile spells them
	// ("" where the folder does not have them).
	Names []string `json:"names"`
	// Cum is the inclusive share of the role's time per folder, 0..1; -1
	// where the folder has no profile of the step or role.
	Cum []float64 `json:"cum"`
	// Change is the largest distance of a folder's Cum from the base's
	// (or, without a base, the range of Cum), which orders the rows.
	Change float64 `json:"change"`
}

// Folders reads the result folders dirs (at least two, each a
// ladder or a folder of profiled steps) and sets them side by side. opt
// chooses the sample type of the symbol shares and, as Top, how many
// symbols per role to keep (0 means 8). A folder that is not a pipelab
// result, has an unknown format version, or is named twice is a
// *FileError.
func Folders(dirs []string, opt attribute.Options) (*Ladders, error) {
	folders, err := openFolders(dirs)
	if err != nil {
		return nil, err
	}
	l := &Ladders{}
	for i, f := range folders {
		l.Folders = append(l.Folders, describeFolder(dirs[i], f))
	}
	l.EnvDiffs, l.Machine = envDiffs(l.Folders)
	for _, mode := range unionModes(folders) {
		st, err := compareStep(folders, l.Folders, mode, opt, &l.SampleType)
		if err != nil {
			return nil, err
		}
		l.Steps = append(l.Steps, st)
	}
	return l, nil
}

// openFolders opens every folder, refusing one named twice.
func openFolders(dirs []string) ([]*result.Folder, error) {
	var out []*result.Folder
	seen := map[int]os.FileInfo{}
	for i, dir := range dirs {
		f, err := result.OpenFolder(dir)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(dir)
		if err != nil {
			return nil, &result.FileError{Op: "read results", Path: dir, Err: err}
		}
		for j, prev := range seen {
			if os.SameFile(prev, st) {
				return nil, &result.FileError{Op: "compare", Path: dirs[j] + " " + dir, Err: fmt.Errorf("%w (name two different result folders)", errSameFolder)}
			}
		}
		seen[i] = st
		out = append(out, f)
	}
	return out, nil
}

// describeFolder is what a folder recorded of itself.
func describeFolder(name string, f *result.Folder) LadderFolder {
	d := LadderFolder{Name: filepath.Clean(name), Version: 1, Ceilings: result.Ceilings(f.Steps)}
	if f.Ladder != nil {
		env := f.Ladder.Env
		d.Env, d.Version = &env, max(1, f.Ladder.Version)
		if len(f.Ladder.Ceilings) > 0 {
			d.Ceilings = f.Ladder.Ceilings
		}
		return d
	}
	for _, s := range f.Steps {
		if s.Env != nil {
			d.Env, d.Version = s.Env, max(1, s.Version)
			break
		}
	}
	return d
}

// unionModes lists the steps of every folder: the first folder's in its
// order, then each other's new ones in theirs.
func unionModes(folders []*result.Folder) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range folders {
		for _, s := range f.Steps {
			if !seen[s.Mode] {
				seen[s.Mode] = true
				out = append(out, s.Mode)
			}
		}
	}
	return out
}

// compareStep builds one step's row across the folders.
func compareStep(folders []*result.Folder, described []LadderFolder, mode string, opt attribute.Options, sampleType *string) (LadderStep, error) {
	st := LadderStep{Mode: mode}
	steps := make([]*result.Step, len(folders))
	samples := make([]*benchmath.Sample, len(folders))
	for i, f := range folders {
		steps[i] = f.Step(mode)
		if steps[i] == nil {
			st.Cells = append(st.Cells, LadderCell{Missing: true})
			continue
		}
		var c LadderCell
		c.Throughput, samples[i] = throughput.RowOf(*steps[i])
		median, own := result.GiBs(c.Throughput.Median), described[i].Ceilings
		c.Throughput.OfCopy = result.Of(median, result.CeilingCopy, own)
		c.Throughput.OfRing = result.Of(median, result.CeilingRing, own)
		if i > 0 && steps[0] != nil {
			c.SettingsDiffer = len(diffFields([][]field{stepSettings(steps[0]), stepSettings(steps[i])}, false)) > 0
			c.Ratio = throughput.Ratio(c.Throughput.Median, st.Cells[0].Throughput.Median)
			if samples[0] != nil && samples[i] != nil {
				cmp := benchmath.AssumeNothing.Compare(samples[0], samples[i])
				c.Delta, c.P = cmp.FormatDelta(st.Cells[0].Throughput.Median, c.Throughput.Median), cmp.P
				c.FewRuns = c.Throughput.N < throughput.MinRunsForTest || st.Cells[0].Throughput.N < throughput.MinRunsForTest
			}
		}
		st.Cells = append(st.Cells, c)
	}
	st.Settings = settingDiffs(steps)
	tallies, err := stepTallies(folders, steps, opt, &st, sampleType)
	if err != nil {
		return st, err
	}
	st.Roles = symbolSeries(tallies, opt)
	return st, nil
}

// stepTallies tallies each folder's profile of the step per role; a nil
// map where a folder lacks the step, its profile or kernel frames.
func stepTallies(folders []*result.Folder, steps []*result.Step, opt attribute.Options, st *LadderStep, sampleType *string) ([]map[string]*tally.Tally, error) {
	out := make([]map[string]*tally.Tally, len(folders))
	for i, f := range folders {
		if steps[i] == nil {
			continue
		}
		p, err := f.StepProfile(steps[i].Mode)
		if err != nil {
			return nil, err
		}
		if p == nil {
			st.Notes = append(st.Notes, fmt.Sprintf("%s has no profile of %s", filepath.Clean(f.Dir), st.Mode))
			continue
		}
		if !tally.HasKernelFrames(p) {
			st.Notes = append(st.Notes, fmt.Sprintf("%s: the profile of %s has no kernel frames", filepath.Clean(f.Dir), st.Mode))
			continue
		}
		idx, err := tally.ValueIndex(p, opt.SampleType)
		if err != nil {
			return nil, result.WithPath(err, filepath.Join(f.Dir, result.ProfileFile(st.Mode, "")))
		}
		name := tally.TypeName(p.SampleType[idx])
		if *sampleType == "" {
			*sampleType = name
		} else if name != *sampleType {
			st.Notes = append(st.Notes, fmt.Sprintf("%s: the profile of %s has no %s; its shares are of %s", filepath.Clean(f.Dir), st.Mode, *sampleType, name))
		}
		st.Cells[i].Profiled = true
		out[i] = map[string]*tally.Tally{}
		for _, role := range tally.Roles(p) {
			out[i][role] = tally.New(p, role, idx)
		}
	}
	return out, nil
}

// symbolKeys are a role tally's inclusive values keyed by alias entry
// ("post:" and the post's name) for symbols of the alias table, by job
// ("routine:" and the job) for those of tally.Routines, and by kernel
// name for the others, with each key's real spelling (a job's routines
// joined by " + ", in name order: one copies each way). The syscall entry
// frames every stack starts with are left out.
func symbolKeys(t *tally.Tally) (cum map[string]int64, names map[string]string) {
	cum, names = map[string]int64{}, map[string]string{}
	keys := slices.Sorted(maps.Keys(t.Sym.Cum))
	for _, key := range keys {
		v := t.Sym.Cum[key]
		if _, ok := tally.AliasIndex[key]; ok || tally.EntryFrames[key] {
			continue
		}
		if job, ok := tally.Routines[key]; ok {
			k := "routine:" + job
			cum[k] += v // a stack holds one of them: one job, one direction
			if names[k] != "" {
				names[k] += " + "
			}
			names[k] += t.Sym.Spelling(key)
			continue
		}
		cum[key], names[key] = v, t.Sym.Spelling(key)
	}
	for post, v := range t.Post.Cum {
		cum["post:"+post], names["post:"+post] = v, t.Post.Spelling(post)
	}
	return cum, names
}

// symbolSeries picks, per role profiled in at least two folders, the
// symbols whose inclusive share changed most across the folders; a
// symbol whose share did not change is left out, and so is a role where
// none changed.
func symbolSeries(tallies []map[string]*tally.Tally, opt attribute.Options) []RoleSymbols {
	n := opt.Top
	if n <= 0 {
		n = 8
	}
	var out []RoleSymbols
	for _, role := range tallyRoles(tallies) {
		if profiledIn(tallies, role) < 2 {
			continue // nothing to compare with
		}
		rs := RoleSymbols{Role: role}
		series := map[string]*SymbolSeries{}
		for i, byRole := range tallies {
			t := byRole[role]
			if t == nil {
				continue
			}
			cum, names := symbolKeys(t)
			for key, v := range cum {
				s := series[key]
				if s == nil {
					s = newSeries(key, len(tallies), tallies, role)
					series[key] = s
				}
				s.Names[i], s.Cum[i] = names[key], t.Share(v)
			}
		}
		for _, s := range series {
			if s.Change = change(s.Cum); s.Change > 0 {
				rs.Symbols = append(rs.Symbols, *s)
			}
		}
		if len(rs.Symbols) == 0 {
			continue // the same shares everywhere
		}
		sort.Slice(rs.Symbols, func(i, j int) bool {
			a, b := rs.Symbols[i], rs.Symbols[j]
			if a.Change != b.Change {
				return a.Change > b.Change
			}
			return a.label() < b.label()
		})
		if len(rs.Symbols) > n {
			rs.Symbols = rs.Symbols[:n]
		}
		out = append(out, rs)
	}
	return out
}

// profiledIn counts the folders with a tally of role.
func profiledIn(tallies []map[string]*tally.Tally, role string) int {
	n := 0
	for _, byRole := range tallies {
		if byRole[role] != nil {
			n++
		}
	}
	return n
}

// newSeries starts a series at share 0 in every folder that profiled the
// role and -1 in the others.
func newSeries(key string, n int, tallies []map[string]*tally.Tally, role string) *SymbolSeries {
	s := &SymbolSeries{Names: make([]string, n), Cum: make([]float64, n)}
	if post, ok := cutPost(key); ok {
		s.Post = post
	}
	if job, ok := strings.CutPrefix(key, "routine:"); ok {
		s.Routine = job
	}
	for i := range s.Cum {
		if tallies[i] == nil || tallies[i][role] == nil {
			s.Cum[i] = -1
		}
	}
	return s
}

func cutPost(key string) (string, bool) {
	if len(key) > 5 && key[:5] == "post:" {
		return key[5:], true
	}
	return "", false
}

// change is the largest distance of a share from the base's (index 0),
// or, when the base has none, the range of the shares present.
func change(cum []float64) float64 {
	var present []float64
	for _, v := range cum {
		if v >= 0 {
			present = append(present, v)
		}
	}
	if len(present) < 2 {
		return 0
	}
	if cum[0] >= 0 {
		d := 0.0
		for _, v := range present {
			d = math.Max(d, math.Abs(v-cum[0]))
		}
		return d
	}
	return slices.Max(present) - slices.Min(present)
}

// label is the series' name for sorting and display: the post's name,
// the routines' job, or the first real spelling.
func (s SymbolSeries) label() string {
	if s.Post != "" {
		return s.Post
	}
	if s.Routine != "" {
		return s.Routine
	}
	for _, n := range s.Names {
		if n != "" {
			return n
		}
	}
	return ""
}

// tallyRoles lists the roles of every tally, in roles() order.
func tallyRoles(tallies []map[string]*tally.Tally) []string {
	p := &pprof.Profile{}
	for _, byRole := range tallies {
		for role := range byRole {
			p.Sample = append(p.Sample, &pprof.Sample{Label: map[string][]string{"role": {role}}})
		}
	}
	return tally.Roles(p)
}
