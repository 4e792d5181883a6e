package result

import "fmt"

// The result folder (`pipelab profile --out DIR`, `pipelab ladder --out
// DIR`, `pipelab compare --out DIR`) is described here and nowhere else:
// every file name comes from this file, and WriteFiles is the one writer
// that puts files into a folder. A step (one mode) saves its files as
// MODE[.ROLE].SUFFIX, the suffix given by its Kind; the folder as a whole
// holds the files named by the *File constants.
//
// To add an artefact:
//   - a file of a step (a flame graph, a wakers profile): add one Kind
//     constant below, e.g. `KindFlame Kind = "svg"` for MODE.ROLE.svg,
//     and one function that names it (FlameFile); write it with
//     WriteFiles (a profile: put it in the map SaveStep takes, under its
//     Artefact);
//   - a file of the whole folder: add one constant beside LadderFile and
//     write it with WriteFiles.
//
// Readers (OpenFolder, Folder.StepProfile, the report) name files through
// the same functions, so a new kind is found where it was written.
const (
	// LadderFile is ladder.json, the Ladder.
	LadderFile = "ladder.json"
	// ReportFile is the Markdown report of a ladder (`pipelab report`).
	ReportFile = "report.md"
	// ChartFile is the throughput chart written next to ReportFile.
	ChartFile = "throughput.svg"
	// CompareFile is the Markdown comparison `pipelab compare --out DIR`
	// writes, and CompareChartFile its grouped bar chart.
	CompareFile      = "compare.md"
	CompareChartFile = "compare.svg"
)

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
	// graph from step FROM to step TO (DiffFlameFile).
	KindDiffFlame Kind = "diff.svg"
)

// Artefact is one file of a step: its kind and its role ("writer",
// "reader", or "" for the step as a whole). It is the key of the step's
// profiles wherever they travel together.
type Artefact struct {
	Kind Kind
	Role string
}

// Name returns the artefact's file name inside the result folder for the
// step of mode: MODE.SUFFIX, or MODE.ROLE.SUFFIX. Every file name of a
// step comes from here.
func (a Artefact) Name(mode string) string {
	if a.Role == "" {
		return mode + "." + string(a.Kind)
	}
	return mode + "." + a.Role + "." + string(a.Kind)
}

// StepFile is MODE.json, the Step of mode.
func StepFile(mode string) string { return Artefact{Kind: KindStep}.Name(mode) }

// ProfileFile is the cpu-clock profile of mode: MODE.pb.gz with both roles
// when role is "", else MODE.ROLE.pb.gz.
func ProfileFile(mode, role string) string { return Artefact{KindProfile, role}.Name(mode) }

// WallFile is MODE.ROLE.wall.pb.gz, the wall view's profile of a role.
func WallFile(mode, role string) string { return Artefact{KindWall, role}.Name(mode) }

// WakersFile is MODE.ROLE.wakers.pb.gz, the stacks that woke a role.
func WakersFile(mode, role string) string { return Artefact{KindWakers, role}.Name(mode) }

// FoldedFile is MODE.ROLE.folded, a role's folded stacks.
func FoldedFile(mode, role string) string { return Artefact{KindFolded, role}.Name(mode) }

// FlameFile is MODE.ROLE.svg, a role's on-CPU flame graph.
func FlameFile(mode, role string) string { return Artefact{KindFlame, role}.Name(mode) }

// OffCPUFlameFile is MODE.ROLE.offcpu.svg, a role's off-CPU flame graph.
func OffCPUFlameFile(mode, role string) string { return Artefact{KindOffCPUFlame, role}.Name(mode) }

// DiffFlameFile is FROM-TO.ROLE.diff.svg, a role's differential flame
// graph from step from to step to.
func DiffFlameFile(from, to, role string) string {
	return Artefact{KindDiffFlame, role}.Name(from + "-" + to)
}

// CompareFlameFile is the name, inside `pipelab compare --out DIR`, of the
// differential flame graph of mode's role in the folder-th folder
// (counting from 0, the base) against the base:
// MODE.ROLE.vs-FOLDER.diff.svg.
func CompareFlameFile(mode, role string, folder int) string {
	return Artefact{Kind(fmt.Sprintf("vs-%d.", folder)) + KindDiffFlame, role}.Name(mode)
}
