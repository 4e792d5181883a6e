package report

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/internal/table"
	"github.com/pipelab/pipelab/internal/tally"
	"github.com/pipelab/pipelab/result"
	"github.com/pipelab/pipelab/throughput"
)

// summary is everything report.md says about a result folder, computed
// before any of it is rendered.
type summary struct {
	// Env is the machine the steps ran on; nil without ladder.json.
	Env *result.Env `json:"env,omitempty"`
	// Unfinished says what the folder lacks because its ladder did not
	// finish (result.Folder.Unfinished); empty for a finished one.
	Unfinished string `json:"unfinished,omitempty"`
	// Throughput has one row per step, in order.
	Throughput []throughput.Row `json:"throughput"`
	// Steps follow the same order.
	Steps []stepSummary `json:"steps"`
	// Skipped are the steps the ladder left out: this machine cannot run
	// them (ladder.json's skipped).
	Skipped []result.Skip `json:"skipped,omitempty"`
	// IRQEnable lists the irq-enable points seen as leaves, where a
	// software cpu-clock piles self time; most share first.
	IRQEnable []irqPoint `json:"irq_enable,omitempty"`
	// Lost and Samples are the samples lost and recorded over every step
	// and role.
	Lost    uint64 `json:"lost"`
	Samples uint64 `json:"samples"`
	// CPUClock is set when some profiled step sampled cpu-clock, whose
	// samples skew onto irq-enable points; Cycles when some sampled cycles;
	// ArmCycles when those ran on arm64, where they skew too
	// (attribute.IRQHeld).
	CPUClock, Cycles, ArmCycles bool `json:"-"`
	// HasWall is set when some step has wall-view data.
	HasWall bool `json:"has_wall"`
	// Notes are the footnotes (warnings), numbered from 1 in order; a
	// warning several steps share is one note.
	Notes []note `json:"notes,omitempty"`
}

// note is one footnote of the report: a warning and the steps it is about.
type note struct {
	Steps []string `json:"steps"`
	Text  string   `json:"text"`
}

// stepSummary is one step of the ladder and its transition from the step
// before.
type stepSummary struct {
	Step result.Step `json:"step"`
	// Throughput is the step's row of summary.Throughput.
	Throughput throughput.Row `json:"throughput"`
	// Attribution holds one entry per role; nil when the step has no CPU
	// profile or the profile has no kernel frames (Notes say which).
	Attribution []attribute.Attribution `json:"attribution,omitempty"`
	// Wall holds the wall view per role; nil without wall data.
	Wall []attribute.WallRole `json:"wall,omitempty"`
	// Prev is the mode of the step before; empty for the first step and
	// for a step whose transport is not the one before's (a ceiling
	// after the pipe steps): that is no transition of the post's.
	Prev string `json:"prev,omitempty"`
	// Verdict checks the post's claim about the step against its profile;
	// nil when the post makes none or the step has no CPU profile.
	Verdict *attribute.Verdict `json:"verdict,omitempty"`
	// Derived are the figures the post reasons with, worked out from the
	// step's samples (get_user_pages_fast per page, copying per GiB, ...).
	Derived []attribute.Derived `json:"derived,omitempty"`
	// Flames are the on-CPU flame graphs of the roles, OffCPUFlames the
	// off-CPU ones (wall view), DiffFlames the differential ones from Prev.
	Flames       []stepFlame `json:"flames,omitempty"`
	OffCPUFlames []stepFlame `json:"offcpu_flames,omitempty"`
	DiffFlames   []stepFlame `json:"diff_flames,omitempty"`
	// Diff compares Prev's profile with this step's, per role; nil when
	// either has no profile or they cannot be compared (Notes say why).
	Diff []attribute.RoleDiff `json:"diff,omitempty"`
	// WallChange is what the transition from Prev did to the wall time.
	WallChange []attribute.WallChange `json:"wall_change,omitempty"`
	// Notes are the numbers of the summary.Notes about this step.
	Notes []int `json:"notes,omitempty"`
}

// irqPoint is an irq-enable point seen as a leaf, and the function that
// turned interrupts back on there (the first frame above the leaf that is
// not a low-level irq-enable helper, e.g. _raw_spin_unlock_irqrestore):
// the largest self share of a role's on-CPU time it took, and where.
type irqPoint struct {
	Symbol string  `json:"symbol"`
	Via    string  `json:"via,omitempty"`
	Share  float64 `json:"share"`
	Mode   string  `json:"mode"`
	Role   string  `json:"role"`
}

// irqEnableHelpers are the low-level irq-enable functions a leaf sits in;
// the frame above them is what turned interrupts back on.
var irqEnableHelpers = map[string]bool{
	"pvm_irq_enable": true, "__raw_callee_save_pvm_irq_enable": true,
	"native_irq_enable": true, "arch_local_irq_enable": true,
}

// wallTolerance is how far on-CPU plus off-CPU time may stray from the
// wall time before the report flags it.
const wallTolerance = 0.05

// summarize computes the report of a result folder: throughput, per step
// attribution and wall view, per transition the diff, and the caveats.
// Profiles that cannot be read are a *FileError; a step without a profile,
// or whose profile has no kernel frames, gets a note instead.
func summarize(f *result.Folder, opt attribute.Options) (*summary, error) {
	s := &summary{Throughput: throughput.Rows(f.Steps), Unfinished: f.Unfinished()}
	if f.Ladder != nil {
		env := f.Ladder.Env
		s.Env = &env
		s.Skipped = f.Ladder.Skipped
	}
	var prev *pprof.Profile
	for i := range f.Steps {
		p, err := s.addStep(f, i, prev, opt)
		if err != nil {
			return nil, err
		}
		prev = p
	}
	sort.Slice(s.IRQEnable, func(i, j int) bool {
		a, b := s.IRQEnable[i], s.IRQEnable[j]
		if a.Share != b.Share {
			return a.Share > b.Share
		}
		return a.Symbol+" "+a.Via < b.Symbol+" "+b.Via
	})
	return s, nil
}

// addStep summarizes step i of f, compared with prev, the CPU profile of
// the step before (nil when it has none), and returns the step's CPU
// profile (nil when it has none with kernel frames).
func (s *summary) addStep(f *result.Folder, i int, prev *pprof.Profile, opt attribute.Options) (*pprof.Profile, error) {
	step := f.Steps[i]
	ss := stepSummary{Step: step, Throughput: s.Throughput[i]}
	if len(step.Roles) > 0 {
		s.CPUClock = s.CPUClock || step.SampledEvent() == "cpu-clock"
		s.ArmCycles = s.ArmCycles || (step.SampledEvent() == "cycles" && stepArch(step) == "arm64")
		s.Cycles = s.Cycles || step.SampledEvent() == "cycles"
	}
	note := func(format string, a ...any) {
		ss.Notes = append(ss.Notes, s.note(step.Mode, fmt.Sprintf(format, a...)))
	}
	stepNotes(step, note)
	p, err := f.StepProfile(step.Mode)
	if err != nil {
		return nil, err
	}
	if p != nil {
		ss.Attribution, err = attribute.Profile(p, opt)
		if errors.Is(err, attribute.ErrNoKernelFrames) {
			note("the profile has no kernel frames, so no kernel symbol is attributed (profile as root, or with kernel.perf_event_paranoid<=1 and kernel.kptr_restrict=0)")
			p = nil
		} else if err != nil {
			return nil, result.WithPath(err, filepath.Join(f.Dir, result.Artefact{Kind: result.KindProfile}.Name(step.Mode)))
		}
		s.irqPoints(p, step.Mode)
		if p != nil {
			vopt := opt
			vopt.Event, vopt.Arch = step.SampledEvent(), stepArch(step)
			ss.Verdict = attribute.CheckClaim(step.Mode, p, vopt)
			ss.Flames = stepFlames(step.Mode, p, opt)
			ss.Derived = attribute.Derive(step, p)
		}
	}
	wall, err := f.WallProfiles(step)
	if err != nil {
		return nil, err
	}
	if ss.Wall, err = attribute.Wall(step, wall, opt.TopN()); err != nil {
		return nil, err
	}
	ss.OffCPUFlames = offCPUFlames(step.Mode, wall)
	for _, w := range ss.Wall {
		s.HasWall = true
		if sum := w.OnCPUNanos + w.OffCPUNanos; !w.FromProfile && math.Abs(float64(sum-w.WallNanos)) > wallTolerance*float64(w.WallNanos) {
			note("the %s's on-CPU plus off-CPU time is %s of its wall time, more than 5%% away from it; read the split with care", w.Role, table.Percent(float64(sum)/float64(w.WallNanos)))
		}
	}
	if i > 0 && transport(s.Steps[i-1].Step) == transport(step) {
		before := s.Steps[i-1]
		ss.Prev = before.Step.Mode
		if p != nil && prev != nil {
			if ss.Diff, err = attribute.Diff(prev, p, attribute.Options{SampleType: opt.SampleType, Top: opt.TopN()}); err != nil {
				note("not compared with %s: %v", ss.Prev, err)
				ss.Diff = nil
			} else {
				ss.DiffFlames = diffFlames(ss.Prev, step.Mode, prev, p, opt)
			}
		}
		ss.WallChange = attribute.WallChanges(before.Wall, ss.Wall)
	}
	for _, r := range step.Roles {
		s.Lost += r.Lost
		s.Samples += r.Samples
	}
	s.Steps = append(s.Steps, ss)
	return p, nil
}

// note adds text about mode to the notes, or mode to an equal note, and
// returns the note's number.
func (s *summary) note(mode, text string) int {
	for i, n := range s.Notes {
		if n.Text == text {
			if n.Steps[len(n.Steps)-1] != mode {
				s.Notes[i].Steps = append(n.Steps, mode)
			}
			return i + 1
		}
	}
	s.Notes = append(s.Notes, note{Steps: []string{mode}, Text: text})
	return len(s.Notes)
}

// stepNotes turns a step's warnings, lost samples and failure marks into
// notes.
func stepNotes(step result.Step, note func(string, ...any)) {
	if step.Interrupted {
		note("interrupted (SIGINT or SIGTERM); its figures cover the part that ran")
	} else if step.Incomplete {
		note("incomplete: the writer or the reader failed part way; its figures cover the part that ran")
	}
	for _, r := range step.Roles {
		if r.Lost > 0 {
			note("the %s lost %d samples (%s of %d); the profile keeps them as a [lost] frame, so shares are of what was recorded", r.Role, r.Lost, table.Percent(float64(r.Lost)/float64(r.Lost+r.Samples)), r.Lost+r.Samples)
		}
	}
	if len(step.CorruptOffsets) > 0 {
		offs := make([]string, len(step.CorruptOffsets))
		for i, o := range step.CorruptOffsets {
			offs[i] = strconv.FormatInt(o, 10)
		}
		note("verification: the reader got wrong bytes in %d of %d runs (first corrupt stream offset of each: %s)", len(offs), len(step.Runs), strings.Join(offs, ", "))
	}
	for _, w := range step.Warnings {
		note("%s", w)
	}
	for _, r := range step.Shared {
		note("%s", r)
	}
}

// irqPoints records the self share of each irq-enable point per role of p.
func (s *summary) irqPoints(p *pprof.Profile, mode string) {
	if p == nil {
		return
	}
	idx, err := tally.ValueIndex(p, "")
	if err != nil {
		return
	}
	type key struct{ role, leaf, via string }
	by := map[key]int64{}
	total := map[string]int64{}
	for _, smp := range p.Sample {
		role, v := tally.SampleRole(smp), smp.Value[idx]
		total[role] += v
		fs := tally.Frames(smp)
		if len(fs) == 0 || !fs[0].Kernel || !tally.IRQEnablePoints[fs[0].Key] || v == 0 {
			continue
		}
		k := key{role: role, leaf: fs[0].Name}
		for _, f := range fs[1:] {
			if !irqEnableHelpers[f.Key] {
				k.via = f.Name
				break
			}
		}
		by[k] += v
	}
	for k, v := range by {
		s.addIRQ(irqPoint{Symbol: k.leaf, Via: k.via, Share: float64(v) / float64(total[k.role]), Mode: mode, Role: k.role})
	}
}

func (s *summary) addIRQ(pt irqPoint) {
	for i, q := range s.IRQEnable {
		if q.Symbol == pt.Symbol && q.Via == pt.Via {
			if pt.Share > q.Share {
				s.IRQEnable[i] = pt
			}
			return
		}
	}
	s.IRQEnable = append(s.IRQEnable, pt)
}

// stepArch is the architecture a step ran on; "" when not recorded.
func stepArch(s result.Step) string {
	if s.Env == nil {
		return ""
	}
	return s.Env.Arch
}

// transport is what joined a step's writer and reader, "pipe" for files
// from before the field.
func transport(s result.Step) string {
	if s.Transport == "" {
		return "pipe"
	}
	return s.Transport
}
