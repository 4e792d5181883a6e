package flame

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	pprof "github.com/google/pprof/profile"
	"github.com/pipelab/pipelab/internal/tally"
	"github.com/pipelab/pipelab/result"
)

// ErrNoSamples means a profile, or the part of it a tag filter keeps,
// holds no samples with a positive value to draw.
var ErrNoSamples = errors.New("no samples")

// Options choose what a flame graph shows.
type Options struct {
	// SampleType sizes the frames, as Options.SampleType.
	SampleType string
	// TagFocus keeps only the samples with this label, "key=value" (e.g.
	// "role=writer"); empty keeps every sample.
	TagFocus string
	// Title is the graph's title; empty means one made from the profile.
	Title string
}

// Frame is one box of a flame graph: a function at one call path.
type Frame struct {
	// Name is the function as the profile spells it ("writer" or "reader"
	// for a role frame, "all" for the root).
	Name string `json:"name"`
	// Kind is frameRoot, frameRole, frameKernel or frameUser.
	Kind string `json:"kind"`
	// Role is the role the frame's samples belong to: the role frame's
	// name, the one role of a graph without role frames, or "" (the root
	// of a graph with role frames, a profile without role labels).
	Role string `json:"role"`
	// Depth is 0 for the root, 1 for its children, and so on.
	Depth int `json:"depth"`
	// Start is where the box begins, as the sum of the values of the boxes
	// left of it at the same depth under the same parents; Value is its
	// inclusive value and Self the part with this frame as leaf.
	Start int64 `json:"start"`
	Value int64 `json:"value"`
	Self  int64 `json:"self"`
	// Share is Value over the graph's total, RoleShare over the role's
	// total; both 0..1.
	Share     float64 `json:"share"`
	RoleShare float64 `json:"role_share"`
	// ShareA and ShareB are, in a differential graph, the function's
	// inclusive share of the role's total (anywhere on the role's stacks,
	// as diff counts it) in A and in B; 1 for the root and role frames.
	ShareA float64 `json:"share_a,omitempty"`
	ShareB float64 `json:"share_b,omitempty"`
}

// Frame kinds, which the SVG colours apart.
const (
	frameRoot   = "root"
	frameRole   = "role"
	frameKernel = "kernel"
	frameUser   = "user"
)

// delta is the change of the frame's function's share from A to B, in a
// differential graph.
func (f Frame) delta() float64 { return f.ShareB - f.ShareA }

// GoneFrame is a function seen in A's stacks of a role and nowhere in B's,
// listed beneath a differential graph.
type GoneFrame struct {
	Role   string  `json:"role"`
	Name   string  `json:"name"`
	Kernel bool    `json:"kernel"`
	ShareA float64 `json:"share_a"`
}

// Graph is a flame graph computed from a profile, ready to render:
// the frames in depth-first order (children by name), root first.
type Graph struct {
	Title string `json:"title"`
	// Subtitle says what sizes the boxes and what was kept.
	Subtitle   string `json:"subtitle"`
	SampleType string `json:"sample_type"`
	// Total is the root's value.
	Total    int64   `json:"total"`
	MaxDepth int     `json:"max_depth"`
	Frames   []Frame `json:"frames"`
	// Diff marks a differential graph: B's stacks coloured by the change
	// of share from A; Gone lists A's functions that B lacks, by share.
	Diff bool        `json:"diff"`
	Gone []GoneFrame `json:"gone,omitempty"`
}

// New computes the flame graph of p. A profile with samples of several
// roles gets one frame per role under the root, as `go tool pprof
// -tagroot=role` shows them. Bad input is a *FileError: a sample type p
// lacks (errSampleTypes), a tag filter that keeps nothing or a profile
// without samples (errNoSamples).
func New(p *pprof.Profile, opt Options) (*Graph, error) {
	q, idx, err := flameInput(p, opt, "")
	if err != nil {
		return nil, err
	}
	byRole := len(tally.Roles(q)) > 1
	t := buildTree(q, idx, byRole)
	g := &Graph{Title: opt.Title, SampleType: tally.TypeName(q.SampleType[idx]), Total: t.value}
	if g.Title == "" {
		g.Title = "Flame graph"
		if m := labelValue(q, "mode"); m != "" {
			g.Title = "Flame graph: " + m
		}
	}
	g.Subtitle = flameSubtitle(g.SampleType, opt.TagFocus, "")
	totals := roleTotals(q, idx)
	t.layout(g, nil, 0, 0, soleRole(tally.Roles(q), byRole), func(f *Frame, n, _ *node) {
		f.Share = float64(n.value) / float64(t.value)
		f.RoleShare = float64(n.value) / float64(totals[f.Role])
	})
	return g, nil
}

// flameInput checks p for a flame graph and returns it with only the
// samples opt.TagFocus keeps, and the index of the sample type. which
// names the profile in errors ("", "A" or "B").
func flameInput(p *pprof.Profile, opt Options, which string) (*pprof.Profile, int, error) {
	bad := func(err error) error {
		if which != "" {
			err = fmt.Errorf("profile %s: %w", which, err)
		}
		return &result.FileError{Op: "flame", Err: err}
	}
	idx, err := tally.ValueIndex(p, opt.SampleType)
	if err != nil {
		var fe *result.FileError
		errors.As(err, &fe)
		return nil, 0, bad(fe.Err)
	}
	if tally.Sum(p.Sample, idx) <= 0 {
		return nil, 0, bad(fmt.Errorf("%w (the profile holds no samples with a positive %s; profile a run that does some work)", ErrNoSamples, tally.TypeName(p.SampleType[idx])))
	}
	if opt.TagFocus == "" {
		return p, idx, nil
	}
	key, val, _ := strings.Cut(opt.TagFocus, "=")
	q := &pprof.Profile{SampleType: p.SampleType, PeriodType: p.PeriodType, Period: p.Period,
		Mapping: p.Mapping, Location: p.Location, Function: p.Function, Comments: p.Comments}
	for _, s := range p.Sample {
		if hasTag(s, key, val) {
			q.Sample = append(q.Sample, s)
		}
	}
	if tally.Sum(q.Sample, idx) <= 0 {
		return nil, 0, bad(fmt.Errorf("%w (no sample has the tag %s; the profile's %s tags are: %s)", ErrNoSamples, opt.TagFocus, key, tagValues(p, key)))
	}
	return q, idx, nil
}

// hasTag reports whether s has the label key=val, a string label or a
// numeric one.
func hasTag(s *pprof.Sample, key, val string) bool {
	for _, v := range s.Label[key] {
		if v == val {
			return true
		}
	}
	for _, n := range s.NumLabel[key] {
		if strconv.FormatInt(n, 10) == val {
			return true
		}
	}
	return false
}

// tagValues lists the values of label key in p, sorted, or says there
// are none.
func tagValues(p *pprof.Profile, key string) string {
	seen := map[string]bool{}
	for _, s := range p.Sample {
		for _, v := range s.Label[key] {
			seen[key+"="+v] = true
		}
		for _, n := range s.NumLabel[key] {
			seen[key+"="+strconv.FormatInt(n, 10)] = true
		}
	}
	if len(seen) == 0 {
		return "none"
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// labelValue returns the one value of label key all of p's samples share,
// or "".
func labelValue(p *pprof.Profile, key string) string {
	v := ""
	for _, s := range p.Sample {
		l := s.Label[key]
		if len(l) != 1 || (v != "" && l[0] != v) {
			return ""
		}
		v = l[0]
	}
	return v
}

// roleTotals is each role's total value, as attribution and diffs
// normalise shares, and under "" the total of every sample.
func roleTotals(p *pprof.Profile, idx int) map[string]int64 {
	out := map[string]int64{"": tally.Sum(p.Sample, idx)}
	for _, role := range tally.Roles(p) {
		out[role] = tally.New(p, role, idx).Total
	}
	return out
}

// soleRole is the role every frame of a graph without role frames
// belongs to: the one role label its samples carry, or "" without one.
func soleRole(rs []string, byRole bool) string {
	if byRole || len(rs) != 1 || rs[0] == "all" {
		return ""
	}
	return rs[0]
}

func flameSubtitle(sampleType, focus, base string) string {
	s := "width: " + sampleType
	if focus != "" {
		s += "; only samples tagged " + focus
	}
	return s + base
}

// node is one call path of the tree a flame graph is drawn from.
type node struct {
	name     string
	kind     string
	value    int64
	self     int64
	children map[string]*node // by frame key
}

func (n *node) child(key, name, kind string) *node {
	c := n.children[key]
	if c == nil {
		c = &node{name: name, kind: kind, children: map[string]*node{}}
		n.children[key] = c
	}
	return c
}

// buildTree merges the stacks of p's samples (positive values only) into
// a tree, root first, with a role frame on top of the root when byRole.
func buildTree(p *pprof.Profile, idx int, byRole bool) *node {
	root := &node{name: "all", kind: frameRoot, children: map[string]*node{}}
	for _, s := range p.Sample {
		v := s.Value[idx]
		if v <= 0 {
			continue
		}
		n := root
		n.value += v
		if byRole {
			r := tally.SampleRole(s)
			n = n.child("\x00role "+r, r, frameRole)
			n.value += v
		}
		fs := tally.Frames(s)
		for i := len(fs) - 1; i >= 0; i-- {
			kind := frameUser
			if fs[i].Kernel {
				kind = frameKernel
			}
			n = n.child(kind+" "+fs[i].Key, fs[i].Name, kind)
			n.value += v
		}
		n.self += v
	}
	return root
}

// sortedChildren returns n's children sorted by name (then key), as
// flamegraph.pl orders them.
func (n *node) sortedChildren() []*node {
	keys := make([]string, 0, len(n.children))
	for k := range n.children {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := n.children[keys[i]], n.children[keys[j]]
		if a.name != b.name {
			return a.name < b.name
		}
		return keys[i] < keys[j]
	})
	out := make([]*node, len(keys))
	for i, k := range keys {
		out[i] = n.children[k]
	}
	return out
}

// childKey is the key n has under its parent; layout recomputes it to
// walk a second tree along the same paths.
func (n *node) childKey() string {
	if n.kind == frameRole {
		return "\x00role " + n.name
	}
	return n.kind + " " + kernelKey(n)
}

func kernelKey(n *node) string {
	if n.kind == frameKernel {
		return tally.KernelName(n.name)
	}
	return n.name
}

// layout appends n and its subtree to g.Frames depth first, calling each
// on every frame appended with its node and the node of the same call
// path in another tree (match, nil when that tree lacks it).
func (n *node) layout(g *Graph, match *node, depth int, start int64, role string, each func(f *Frame, n, match *node)) {
	if n.kind == frameRole {
		role = n.name
	}
	g.Frames = append(g.Frames, Frame{Name: n.name, Kind: n.kind, Role: role, Depth: depth, Start: start, Value: n.value, Self: n.self})
	if depth > g.MaxDepth {
		g.MaxDepth = depth
	}
	each(&g.Frames[len(g.Frames)-1], n, match)
	for _, c := range n.sortedChildren() {
		var m *node
		if match != nil {
			m = match.children[c.childKey()]
		}
		c.layout(g, m, depth+1, start, role, each)
		start += c.value
	}
}
