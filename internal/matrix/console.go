package matrix

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
)

// Console is what the host reads of a guest's serial console: the init
// script's marker lines, the checks' -test.v output, the framed files, and
// any oops or panic of the kernel.
type Console struct {
	// Booted is set once the init script runs; Release and Machine are
	// the guest's uname -r and uname -m.
	Booted           bool
	Release, Machine string
	// Notes are the init script's notes (e.g. tracefs not mounted).
	Notes []string
	// Tests are the checks in the order they started.
	Tests []*TestResult
	// TestsExit is the test binary's exit status, valid when TestsEnded.
	TestsExit  int
	TestsEnded bool
	// Files are the framed files, decoded; FileErrors say which could not
	// be.
	Files      map[string][]byte
	FileErrors []string
	// Done is set when the init script reached its end.
	Done bool
	// Oops holds the first lines of the kernel's first oops, BUG or
	// panic, from the line that announced it.
	Oops []string
	// Lines counts the console's lines; Tail keeps its last ones.
	Lines int
	Tail  []string

	cur      *TestResult
	byName   map[string]*TestResult
	file     string
	b64      strings.Builder
	oopsLeft int
}

// TestResult is one check (a test or subtest of package e2e) as -test.v
// printed it.
type TestResult struct {
	Name string
	// Status is PASS, FAIL or SKIP; RUN when it never ended.
	Status string
	// Output are the lines the test logged, without the file:line prefix.
	Output []string
	// Result is the line it logged after "result: ", the table's cell.
	Result string
}

// Sizes of what Console keeps.
const (
	tailLines = 40
	oopsLines = 12
)

var (
	// oopsLine announces a kernel oops, BUG, warning of a fatal kind or
	// panic, on amd64 and arm64.
	oopsLine  = regexp.MustCompile(`Kernel panic - not syncing|BUG: |kernel BUG at|Oops|Internal error: |Unable to handle kernel|general protection fault|invalid opcode: `)
	testEnd   = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): (\S+) \(`)
	testStart = regexp.MustCompile(`^=== (RUN|NAME|CONT|PAUSE)\s+(\S+)`)
	logPrefix = regexp.MustCompile(`^\s+\S+\.go:\d+: `)
	base64Set = regexp.MustCompile(`^[A-Za-z0-9+/=]+$`)
)

// Line reads one line of the console.
func (c *Console) Line(line string) {
	line = strings.TrimRight(line, "\r\n")
	line = strings.ReplaceAll(line, "\r", "")
	c.Lines++
	c.Tail = append(c.Tail, line)
	if len(c.Tail) > tailLines {
		c.Tail = c.Tail[len(c.Tail)-tailLines:]
	}
	if c.file != "" && base64Set.MatchString(line) {
		// A line of a file the guest sends back, which may spell
		// "Oops" by chance; the kernel's own lines have spaces.
		c.b64.WriteString(line)
		return
	}
	c.oops(line)
	if i := strings.Index(line, marker); i >= 0 {
		c.markerLine(line[i+len(marker):])
		return
	}
	if c.file != "" {
		return
	}
	if c.Booted && !c.TestsEnded {
		c.testLine(line)
	}
}

// oops keeps the first oops's first lines.
func (c *Console) oops(line string) {
	switch {
	case c.oopsLeft > 0:
		c.Oops = append(c.Oops, line)
		c.oopsLeft--
	case c.Oops == nil && oopsLine.MatchString(line):
		c.Oops = []string{line}
		c.oopsLeft = oopsLines - 1
	}
}

func (c *Console) markerLine(s string) {
	verb, rest, _ := strings.Cut(s, " ")
	switch verb {
	case "booted":
		c.Booted = true
		c.Release, c.Machine, _ = strings.Cut(rest, " ")
	case "note":
		c.Notes = append(c.Notes, rest)
	case "tests-exit":
		c.TestsEnded = true
		c.TestsExit, _ = strconv.Atoi(strings.TrimSpace(rest))
	case "file":
		c.file = strings.TrimSpace(rest)
		c.b64.Reset()
	case "end":
		c.endFile()
	case "done":
		c.Done = true
	}
}

// endFile decodes the file framed since its "file" marker.
func (c *Console) endFile() {
	if c.file == "" {
		return
	}
	data, err := base64.StdEncoding.DecodeString(c.b64.String())
	if err != nil {
		c.FileErrors = append(c.FileErrors, c.file+": "+err.Error())
	} else {
		if c.Files == nil {
			c.Files = map[string][]byte{}
		}
		c.Files[c.file] = data
	}
	c.file = ""
	c.b64.Reset()
}

// testLine reads one line of -test.v output.
func (c *Console) testLine(line string) {
	if m := testStart.FindStringSubmatch(line); m != nil {
		c.cur = c.test(m[2])
		return
	}
	if m := testEnd.FindStringSubmatch(line); m != nil {
		c.test(m[2]).Status = m[1]
		return
	}
	if c.cur == nil || !strings.HasPrefix(line, "    ") {
		if c.cur != nil && line != "" && c.cur.Status == "RUN" && !isTestSummary(line) {
			c.cur.Output = append(c.cur.Output, line) // a panic of the test binary
		}
		return
	}
	text := logPrefix.ReplaceAllString(line, "")
	if r, ok := strings.CutPrefix(text, "result: "); ok && text != line {
		c.cur.Result = r
		return
	}
	c.cur.Output = append(c.cur.Output, strings.TrimSpace(text))
}

// isTestSummary reports the lines that end a test binary's output.
func isTestSummary(line string) bool {
	return line == "PASS" || line == "FAIL" || strings.HasPrefix(line, "ok ") || strings.HasPrefix(line, "FAIL\t")
}

// test returns the test named name, adding it when new.
func (c *Console) test(name string) *TestResult {
	if t, ok := c.byName[name]; ok {
		return t
	}
	if c.byName == nil {
		c.byName = map[string]*TestResult{}
	}
	t := &TestResult{Name: name, Status: "RUN"}
	c.byName[name] = t
	c.Tests = append(c.Tests, t)
	return t
}

// Test returns the check named name, or nil.
func (c *Console) Test(name string) *TestResult { return c.byName[name] }
