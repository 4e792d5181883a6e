package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	pprof "github.com/google/pprof/profile"
)

// The result folder (`pipelab profile --out DIR`, `pipelab ladder --out
// DIR`) is described here and nowhere else: every file name, and the one
// writer that puts files into it. A step (one mode) saves its files as
// MODE[.ROLE].SUFFIX, the suffix given by its Kind; the folder as a whole
// holds the files named by the *File constants.
//
// To add an artefact:
//   - a file of a step (a flame graph, a wakers profile): add one Kind
//     constant below, e.g. `KindFlame Kind = "flame.svg"` for
//     MODE.ROLE.flame.svg; name it with Artefact{Kind: KindFlame, Role:
//     role}.Name(mode), and write it with WriteFiles (a profile: put it in
//     SavedStep.Profiles under its Artefact and SaveStep writes it);
//   - a file of the whole folder: add one constant beside LadderFile and
//     write it with WriteFiles.
//
// Readers (OpenFolder, Folder.StepProfile, summarize) name files the same
// way, so a new kind is found where it was written.
const (
	// LadderFile is ladder.json, the Ladder.
	LadderFile = "ladder.json"
	// ReportFile is the Markdown report WriteReport writes.
	ReportFile = "report.md"
	// ChartFile is the throughput chart WriteReport writes next to
	// ReportFile.
	ChartFile = "throughput.svg"
	// CompareFile is the Markdown comparison `pipelab compare --out DIR`
	// writes (WriteLaddersFiles), and CompareChartFile its grouped bar
	// chart.
	CompareFile      = "compare.md"
	CompareChartFile = "compare.svg"
)

// CompareFlameName is the name, inside `pipelab compare --out DIR`, of the
// differential flame graph of mode's role in the folder-th folder (counting
// from 0, the base) against the base: MODE.ROLE.vs-FOLDER.diff.svg.
func CompareFlameName(mode, role string, folder int) string {
	return fmt.Sprintf("%s.%s.vs-%d.diff.svg", mode, role, folder)
}

// Kind is a kind of file a step saves; its value is the file name's suffix
// after MODE[.ROLE].
type Kind string

const (
	// KindStep is MODE.json: the Step.
	KindStep Kind = "json"
	// KindProfile is a cpu-clock pprof profile: MODE.pb.gz holds both
	// roles (label role), MODE.ROLE.pb.gz one.
	KindProfile Kind = "pb.gz"
	// KindWall is MODE.ROLE.wall.pb.gz: the wall view's profile of a role
	// (cpu/nanoseconds plus offcpu/nanoseconds).
	KindWall Kind = "wall.pb.gz"
	// KindWakers is MODE.ROLE.wakers.pb.gz: the stacks that woke a role,
	// weighted by the sleep each ended (the wall view with wake-ups).
	KindWakers Kind = "wakers.pb.gz"
	// KindFolded is MODE.ROLE.folded: a role's folded stacks, for
	// flame-graph tools.
	KindFolded Kind = "folded"
	// KindFlame is MODE.ROLE.svg: a role's on-CPU flame graph, written
	// with report.md.
	KindFlame Kind = "svg"
	// KindOffCPUFlame is MODE.ROLE.offcpu.svg: the wall view's off-CPU
	// flame graph of a role.
	KindOffCPUFlame Kind = "offcpu.svg"
	// KindDiffFlame is FROM-TO.ROLE.diff.svg: a role's differential flame
	// graph from step FROM to step TO; its "mode" is Transition(FROM, TO).
	KindDiffFlame Kind = "diff.svg"
)

// Transition names the step-to-step change from one mode to the next, as
// the mode part of a KindDiffFlame file name: "FROM-TO".
func Transition(from, to string) string { return from + "-" + to }

// Artefact is one file of a step: its kind and its role ("writer",
// "reader", or "" for the step as a whole). It is the key of the step's
// profiles wherever they travel together.
type Artefact struct {
	Kind Kind
	Role string
}

// Name returns the artefact's file name inside the result folder for the
// step of mode: MODE.SUFFIX, or MODE.ROLE.SUFFIX.
func (a Artefact) Name(mode string) string {
	if a.Role == "" {
		return mode + "." + string(a.Kind)
	}
	return mode + "." + a.Role + "." + string(a.Kind)
}

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
// what it held before.
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
			return fmt.Errorf("write %s: %w", filepath.Join(dir, o.Name), err)
		}
	}
	return nil
}

// writeTemp writes o to a new temporary file in dir and returns its path,
// also on error once the file exists.
func writeTemp(dir string, o Output) (string, error) {
	path := filepath.Join(dir, o.Name)
	t, err := os.CreateTemp(dir, "."+o.Name+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	werr := o.Write(t)
	err = errors.Join(werr, t.Chmod(0o644), t.Sync(), t.Close())
	if err != nil {
		return t.Name(), fmt.Errorf("write %s: %w", path, err)
	}
	return t.Name(), nil
}

// SavedStep is what one step saves into a result folder.
type SavedStep struct {
	// Step becomes MODE.json.
	Step *Step
	// Profiles are the step's pprof profiles by artefact:
	// {KindProfile, ""} both roles, {KindProfile, role} and {KindWall,
	// role} one role.
	Profiles map[Artefact]*pprof.Profile
	// Folded asks for each role's folded stacks (MODE.ROLE.folded), cut
	// from the both-roles profile.
	Folded bool
}

// SaveStep writes s into dir through WriteFiles: the profiles, the folded
// stacks when asked, and MODE.json last, all or nothing.
func SaveStep(dir string, s SavedStep) error {
	mode := s.Step.Mode
	var outs []Output
	for a, p := range s.Profiles {
		outs = append(outs, ProfileOutput(a.Name(mode), p))
	}
	slices.SortFunc(outs, func(a, b Output) int { return strings.Compare(a.Name, b.Name) })
	if both := s.Profiles[Artefact{Kind: KindProfile}]; s.Folded && both != nil {
		for _, r := range s.Step.Roles {
			stacks := foldStacks(both, r.Role)
			outs = append(outs, Output{Name: Artefact{KindFolded, r.Role}.Name(mode),
				Write: func(w io.Writer) error { return writeFolded(w, stacks) }})
		}
	}
	outs = append(outs, Output{Name: Artefact{Kind: KindStep}.Name(mode),
		Write: func(w io.Writer) error { return WriteStepsJSON(w, []Step{*s.Step}) }})
	return WriteFiles(dir, outs...)
}
