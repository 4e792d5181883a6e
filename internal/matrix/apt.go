package matrix

import (
	"bufio"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// kernelPackage matches a Debian cloud kernel image package:
// linux-image-6.1.0-57-cloud-amd64, linux-image-6.12.118+deb12-cloud-arm64.
// Meta-packages (linux-image-6.12-cloud-amd64), -dbg and -unsigned
// packages do not match.
var kernelPackage = regexp.MustCompile(`^linux-image-((\d+)\.(\d+)\.(\d+)([-+][0-9a-z.+-]*)?)-cloud-([a-z0-9]+)$`)

// KernelCandidates reads the output of `apt-cache search --names-only
// '^linux-image-'` and returns the cloud kernel packages of series on
// arch, newest first. Point releases come and go from the archive, so the
// matrix takes the newest one served rather than a pinned build.
func KernelCandidates(search, series, arch string) []string {
	type cand struct {
		name string
		key  []int
	}
	var cs []cand
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(search))
	for sc.Scan() {
		name, _, _ := strings.Cut(sc.Text(), " - ")
		name = strings.TrimSpace(name)
		m := kernelPackage.FindStringSubmatch(name)
		if m == nil || m[6] != arch || m[2]+"."+m[3] != series || seen[name] {
			continue
		}
		seen[name] = true
		cs = append(cs, cand{name, numbers(m[1])})
	}
	sort.SliceStable(cs, func(i, j int) bool { return less(cs[j].key, cs[i].key) })
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.name
	}
	return names
}

// KernelSeries returns the series of a cloud kernel package's name, e.g.
// "6.12" for linux-image-6.12.118+deb12-cloud-arm64, and its architecture.
func KernelSeries(pkg string) (series, arch string, ok bool) {
	m := kernelPackage.FindStringSubmatch(pkg)
	if m == nil {
		return "", "", false
	}
	return m[2] + "." + m[3], m[6], true
}

// numbers returns the decimal numbers in s in order: 6.1.0-57 is
// [6 1 0 57], 6.12.118+deb12 is [6 12 118 12].
func numbers(s string) []int {
	var out []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

// less orders number lists element by element, a shorter prefix first.
func less(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}
