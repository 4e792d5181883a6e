package profile_test

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	pprof "github.com/google/pprof/profile"
)

// stackSample is one sampled kernel call stack of a thread, as
// BenchmarkFidelity compares them between two samplers.
type stackSample struct {
	tid int
	// cpu and timeNS are where and when perf took the sample; -1 and 0
	// when not known (pipelab's profiles keep neither).
	cpu    int
	timeNS int64
	// kernel holds the kernel frames' function names, leaf first.
	kernel []string
	n      int64 // how many samples had this stack
}

// transferSyscalls are the entry points of the transfers' system calls
// (vmsplice(2), write(2), read(2), splice(2)) as they appear on a stack.
// BenchmarkFidelity counts only samples with one on the stack, so that
// what a process does before and after its transfer drops out.
var transferSyscalls = []string{"__do_sys_vmsplice", "ksys_write", "ksys_read", "do_splice"}

// kernelName strips a compiler suffix (.isra.0, .constprop.0, .cold)
// from a kernel function name; "" for a padding symbol (__pfx_).
func kernelName(fn string) string {
	if strings.HasPrefix(fn, "__pfx_") {
		return ""
	}
	name, _, _ := strings.Cut(fn, ".")
	return name
}

// parsePerfStacks reads `perf script -F tid,cpu,time,ip,sym,dso` output
// of a recording with callchains (one block per sample: a line with the
// tid, the CPU in brackets and the time in seconds with a colon, then one
// line per frame, a tab, the address, the symbol and the dso in
// parentheses, then a blank line) and returns each sample's kernel
// frames.
func parsePerfStacks(rd io.Reader) ([]stackSample, error) {
	var out []stackSample
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
		case line[0] != '\t': // a sample's tid line; perf right-aligns it
			s, err := parseSampleLine(line)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		default:
			if len(out) == 0 {
				return nil, fmt.Errorf("frame line %q before any sample line", line)
			}
			_, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
			sym, dso, ok := strings.Cut(strings.TrimSpace(rest), " (")
			if ok && strings.TrimSuffix(dso, ")") == "[kernel.kallsyms]" {
				s := &out[len(out)-1]
				s.kernel = append(s.kernel, sym)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no samples")
	}
	return out, nil
}

// parseSampleLine reads a sample's first line: "4242 [001] 532.171997:".
func parseSampleLine(line string) (stackSample, error) {
	f := strings.Fields(line)
	s := stackSample{n: 1, cpu: -1}
	var err error
	if s.tid, err = strconv.Atoi(f[0]); err != nil {
		return s, fmt.Errorf("sample line %q: no tid", line)
	}
	if len(f) < 3 {
		return s, fmt.Errorf("sample line %q: no cpu and time", line)
	}
	cpu, ok := strings.CutPrefix(f[1], "[")
	cpu, ok2 := strings.CutSuffix(cpu, "]")
	if s.cpu, err = strconv.Atoi(cpu); !ok || !ok2 || err != nil {
		return s, fmt.Errorf("sample line %q: no cpu", line)
	}
	sec, frac, _ := strings.Cut(strings.TrimSuffix(f[2], ":"), ".")
	whole, err := strconv.ParseInt(sec, 10, 64)
	frac = (frac + "000000000")[:9]
	nanos, err2 := strconv.ParseInt(frac, 10, 64)
	if err != nil || err2 != nil {
		return s, fmt.Errorf("sample line %q: no time", line)
	}
	s.timeNS = whole*1e9 + nanos
	return s, nil
}

// timerOffset is how far, in the median, each sample of cpu b lies from
// the nearest sample of cpu a, over ss: the distance between the two
// CPUs' sampling timers; 0 when either CPU has no sample.
func timerOffset(ss []stackSample, a, b int) time.Duration {
	var ta []int64
	for _, s := range ss {
		if s.cpu == a {
			ta = append(ta, s.timeNS)
		}
	}
	slices.Sort(ta)
	var gaps []int64
	for _, s := range ss {
		if s.cpu != b || len(ta) == 0 {
			continue
		}
		i, _ := slices.BinarySearch(ta, s.timeNS)
		gap := int64(math.MaxInt64)
		for _, j := range []int{i - 1, i} {
			if j >= 0 && j < len(ta) {
				gap = min(gap, max(ta[j], s.timeNS)-min(ta[j], s.timeNS))
			}
		}
		gaps = append(gaps, gap)
	}
	if len(gaps) == 0 {
		return 0
	}
	slices.Sort(gaps)
	return time.Duration(gaps[len(gaps)/2])
}

// profileStacks returns the kernel stacks of p's samples (frames under
// the [kernel.kallsyms] mapping), with their tid label and sample count.
func profileStacks(p *pprof.Profile) []stackSample {
	var out []stackSample
	for _, s := range p.Sample {
		ss := stackSample{n: s.Value[0], cpu: -1}
		if t := s.Label["tid"]; len(t) == 1 {
			ss.tid, _ = strconv.Atoi(t[0])
		}
		for _, l := range s.Location {
			if l.Mapping == nil || l.Mapping.File != "[kernel.kallsyms]" {
				continue
			}
			for _, ln := range l.Line {
				ss.kernel = append(ss.kernel, ln.Function.Name)
			}
		}
		out = append(out, ss)
	}
	return out
}

// shareTally counts the samples of one role that have a transfer system
// call on the stack, and among them those with each kernel function on
// the stack (each function once per sample): inclusive shares.
type shareTally struct {
	total int64
	hit   map[string]int64
}

// add counts the samples of ss whose tid is in tids (every tid when tids
// is nil).
func (t *shareTally) add(ss []stackSample, tids map[int]bool) {
	if t.hit == nil {
		t.hit = map[string]int64{}
	}
	seen := map[string]bool{}
	for _, s := range ss {
		if tids != nil && !tids[s.tid] {
			continue
		}
		clear(seen)
		for _, fn := range s.kernel {
			if n := kernelName(fn); n != "" {
				seen[n] = true
			}
		}
		if !slices.ContainsFunc(transferSyscalls, func(fn string) bool { return seen[fn] }) {
			continue
		}
		t.total += s.n
		for fn := range seen {
			t.hit[fn] += s.n
		}
	}
}

// share is fn's inclusive share of the counted samples, 0 to 1.
func (t *shareTally) share(fn string) float64 {
	if t.total == 0 {
		return 0
	}
	return float64(t.hit[fn]) / float64(t.total)
}

// top returns the n functions with the largest shares, largest first,
// leaving out those on (nearly) every sample: the system call's own
// entry path, the same on every side.
func (t *shareTally) top(n int) []string {
	var fns []string
	for fn := range t.hit {
		if t.share(fn) < everySample {
			fns = append(fns, fn)
		}
	}
	slices.SortFunc(fns, func(a, b string) int {
		return cmp.Or(cmp.Compare(t.hit[b], t.hit[a]), strings.Compare(a, b))
	})
	return fns[:min(n, len(fns))]
}

// everySample is the share from which a function counts as being on
// every sample.
const everySample = 0.99

// gapRow compares one function's share between two tallies.
type gapRow struct {
	fn string
	// a and b are the shares, 0 to 1; gap is b - a in percentage points
	// and err the 95% sampling interval of that difference (±pp), were
	// the samples independent draws.
	a, b, gap, err float64
}

// compareTallies returns, for the union of the top n functions of a and
// b, each function's shares in both, the largest share first.
func compareTallies(a, b *shareTally, n int) []gapRow {
	fns := a.top(n)
	for _, fn := range b.top(n) {
		if !slices.Contains(fns, fn) {
			fns = append(fns, fn)
		}
	}
	rows := make([]gapRow, 0, len(fns))
	for _, fn := range fns {
		pa, pb := a.share(fn), b.share(fn)
		rows = append(rows, gapRow{fn: fn, a: pa, b: pb, gap: 100 * (pb - pa),
			err: 100 * 1.96 * math.Sqrt(pa*(1-pa)/float64(max(a.total, 1))+pb*(1-pb)/float64(max(b.total, 1)))})
	}
	slices.SortFunc(rows, func(x, y gapRow) int {
		return cmp.Or(cmp.Compare(max(y.a, y.b), max(x.a, x.b)), strings.Compare(x.fn, y.fn))
	})
	return rows
}

// worstGap returns the row of rows with the largest gap either way; the
// zero row for none.
func worstGap(rows []gapRow) gapRow {
	var w gapRow
	for _, r := range rows {
		if math.Abs(r.gap) > math.Abs(w.gap) {
			w = r
		}
	}
	return w
}
