package matrix

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// checkNames are the table's names of the e2e checks; a check not named
// here shows under its test name.
var checkNames = map[string]string{
	"TestDoctor":             "doctor",
	"TestSymbols":            "the post's symbols found",
	"TestRun":                "run, every mode",
	"TestCommands":           "writer and reader commands (dd, cat)",
	"TestProfileCPU":         "profile, cpu view",
	"TestProfileWall":        "profile, wall view",
	"TestLadder":             "ladder",
	"TestVerdicts":           "verdicts computed",
	"TestEmulation":          "emulation said",
	"TestLadderWithoutTHP":   "ladder without THP",
	"TestWallWithoutTracefs": "wall view without tracefs",
}

// Cell is one check on one target.
type Cell struct {
	// Status is pass, skip, FAIL or "—" (not run: the guest did not get
	// that far).
	Status string
	// Text is the check's result line, skip reason or first failure line.
	Text string
	// Detail holds a failure's lines, for the failures section.
	Detail []string
}

// Failed reports whether the cell fails the matrix.
func (c Cell) Failed() bool { return c.Status == "FAIL" }

func (c Cell) String() string {
	if c.Text == "" {
		return c.Status
	}
	return c.Status + ": " + c.Text
}

// Checks returns the top-level checks that any row ran, in the order they
// first ran.
func (m *Matrix) Checks() []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range m.Rows {
		if r.Outcome == nil {
			continue
		}
		for _, t := range r.Outcome.Console.Tests {
			if !strings.Contains(t.Name, "/") && !seen[t.Name] {
				seen[t.Name] = true
				names = append(names, t.Name)
			}
		}
	}
	return names
}

// BootCell says how r's guest booted and ended.
func (r *Row) BootCell() Cell {
	o := r.Outcome
	c := o.Console
	switch {
	case len(c.Oops) > 0:
		return Cell{Status: "FAIL", Text: "kernel oops: " + strings.TrimSpace(c.Oops[0]), Detail: c.Oops}
	case o.Ending == Finished && c.TestsEnded && len(c.FileErrors) == 0:
		return Cell{Status: "pass", Text: r.Accel}
	case o.Ending == Finished:
		text := "the checks' files did not come out"
		if len(c.FileErrors) > 0 {
			text += ": " + c.FileErrors[0]
		}
		return Cell{Status: "FAIL", Text: text, Detail: c.Tail}
	}
	text := string(o.Ending)
	if o.QEMUError != "" {
		text += ": " + firstLine(o.QEMUError)
	}
	if len(c.Tail) == 0 {
		return Cell{Status: "FAIL", Text: text + " (the console stayed empty)"}
	}
	return Cell{Status: "FAIL", Text: text + " (console tail below)", Detail: c.Tail}
}

// Cell returns check on r.
func (r *Row) Cell(check string) Cell {
	c := r.Outcome.Console
	t := c.Test(check)
	if t == nil {
		if c.TestsEnded && c.TestsExit == 0 {
			return Cell{Status: "—", Text: "not in this build of the checks"}
		}
		return Cell{Status: "—", Text: "not reached"}
	}
	switch t.Status {
	case "PASS":
		return Cell{Status: "pass", Text: t.Result}
	case "SKIP":
		return Cell{Status: "skip", Text: firstOf(t.Output)}
	case "RUN":
		return Cell{Status: "FAIL", Text: "did not finish", Detail: t.Output}
	}
	detail := append([]string(nil), t.Output...)
	for _, sub := range c.Tests {
		if strings.HasPrefix(sub.Name, check+"/") && sub.Status != "PASS" {
			detail = append(detail, sub.Name+": "+sub.Status)
			detail = append(detail, sub.Output...)
		}
	}
	return Cell{Status: "FAIL", Text: firstOf(detail), Detail: detail}
}

// Failed reports whether any guest or check failed.
func (m *Matrix) Failed() bool {
	for _, r := range m.Rows {
		if r.BootCell().Failed() {
			return true
		}
		for _, name := range m.Checks() {
			if r.Cell(name).Failed() {
				return true
			}
		}
		if c := r.Outcome.Console; c.TestsEnded && c.TestsExit != 0 {
			return true
		}
	}
	return m.Compare.Failed()
}

// WriteMarkdown writes docs/matrix.md.
func (m *Matrix) WriteMarkdown(w io.Writer) error {
	p := &printer{w: w}
	p.printf("# The kernel matrix\n\n")
	p.printf("Written by `make matrix` (cmd/matrix) on %s; never edited by hand. ", m.Date.Format("2006-01-02"))
	p.printf("Each column is one of Debian's cloud kernels, the newest of its series served that day, booted under QEMU with a static pipelab and the end-to-end checks of package `e2e` (`go test -c`, run with `-test.v`) in an initramfs; transfers are %s. ", m.Bytes)
	p.printf("Under TCG the CPU is emulated: no timing measured there is the hardware's, so this page has none. ")
	p.printf("`pipelab compare` runs on the host over the ladders the guests sent back.\n\n")
	m.writeChecks(p)
	writeUsage(p)
	m.writeFailures(p)
	m.writeSymbols(p)
	m.writeDoctor(p)
	m.writeCompare(p)
	return p.err
}

// writeChecks writes the table of checks.
func (m *Matrix) writeChecks(p *printer) {
	head := []string{"check"}
	kernel := []string{"kernel package"}
	boot := []string{"boot"}
	for _, r := range m.Rows {
		head = append(head, r.Target.Series+" "+r.Target.Arch.Name)
		k := "`" + r.Kernel.Package + "`"
		if r.Kernel.Note != "" {
			k += " (" + r.Kernel.Note + ")"
		}
		kernel = append(kernel, k)
		boot = append(boot, r.BootCell().String())
	}
	rows := [][]string{kernel, boot}
	for _, name := range m.Checks() {
		row := []string{checkName(name)}
		for _, r := range m.Rows {
			row = append(row, r.Cell(name).String())
		}
		rows = append(rows, row)
	}
	p.table(head, rows)
	for _, r := range m.Rows {
		if r.AccelNote != "" {
			p.printf("- %s: %s.\n", r.Target, r.AccelNote)
		}
	}
	p.printf("\n")
}

// writeUsage says how to run the matrix, one kernel of it, and a kernel
// under KVM.
func writeUsage(p *printer) {
	p.printf("## Running it\n\n")
	p.printf("- `make matrix` boots the four guests in turn, prints this page and writes it here; each guest's `console.log`, `doctor.json`, `symbols.json`, `profile-cpu/`, `profile-wall/` and `ladder/` land in `matrix-out/SERIES-ARCH/`. It needs `qemu-system-x86` and `qemu-system-arm`, and for arm64 kernels `dpkg --add-architecture arm64 && apt-get update`; kernels and busybox-static come from Debian's packages and are kept in `${XDG_CACHE_HOME:-~/.cache}/pipelab/matrix`.\n")
	p.printf("- One kernel: `make matrix MATRIX_FLAGS=\"--series 6.1 --arch arm64\"` (this page is left as it is).\n")
	p.printf("- With KVM (a /dev/kvm that boots stock kernels, on a host of the guest's architecture) the guest runs on the host's CPU (`-accel kvm -cpu host`), its PMU included, and its timings are real: `make matrix MATRIX_FLAGS=\"--series 6.1 --arch amd64 --accel kvm --bytes 1GiB\"`, then `pipelab report matrix-out/6.1-amd64/ladder`, or `pipelab compare` of that ladder and one of the host's own. `--accel auto` (the default) tries KVM first and falls back to TCG when the kernel does not boot under it within 30 s.\n\n")
}

// writeFailures writes each failing cell's lines.
func (m *Matrix) writeFailures(p *printer) {
	first := true
	for _, r := range m.Rows {
		cells := []struct {
			name string
			c    Cell
		}{{"boot", r.BootCell()}}
		for _, name := range m.Checks() {
			cells = append(cells, struct {
				name string
				c    Cell
			}{checkName(name), r.Cell(name)})
		}
		for _, c := range cells {
			if !c.c.Failed() || len(c.c.Detail) == 0 {
				continue
			}
			if first {
				p.printf("## Failures\n\n")
				first = false
			}
			p.printf("### %s %s: %s\n\n```\n%s\n```\n\n", r.Target.Series, r.Target.Arch.Name, c.name, strings.Join(c.c.Detail, "\n"))
		}
	}
}

// aliasStatus is one line of symbols.json (report.AliasStatus).
type aliasStatus struct {
	Post  string   `json:"post"`
	Found []string `json:"found"`
}

// writeSymbols writes which real symbol each post symbol goes by, per
// target, from the symbols.json the guests sent.
func (m *Matrix) writeSymbols(p *printer) {
	var posts []string
	found := make([]map[string][]string, len(m.Rows))
	for i, r := range m.Rows {
		var st []aliasStatus
		if readJSON(filepath.Join(r.Dir, "symbols.json"), &st) != nil {
			continue
		}
		found[i] = map[string][]string{}
		for _, a := range st {
			if len(posts) < len(st) && !contains(posts, a.Post) {
				posts = append(posts, a.Post)
			}
			found[i][a.Post] = a.Found
		}
	}
	if len(posts) == 0 {
		return
	}
	p.printf("## The post's symbols, kernel by kernel\n\n")
	p.printf("The real symbols in each kernel's /proc/kallsyms that the alias table matches to the post's names (5.17); — where the kernel has none (inlined or gone).\n\n")
	head := []string{"post"}
	for _, r := range m.Rows {
		head = append(head, r.Target.Series+" "+r.Target.Arch.Name)
	}
	var rows [][]string
	for _, post := range posts {
		row := []string{"`" + post + "`"}
		for i := range m.Rows {
			switch names := found[i][post]; {
			case found[i] == nil:
				row = append(row, "?")
			case len(names) == 0:
				row = append(row, "—")
			default:
				row = append(row, "`"+strings.Join(names, "`, `")+"`")
			}
		}
		rows = append(rows, row)
	}
	p.table(head, rows)
	p.printf("\n")
}

// doctorCheck is one line of doctor.json.
type doctorCheck struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
}

// writeDoctor writes doctor's lines per target.
func (m *Matrix) writeDoctor(p *printer) {
	var names []string
	lines := make([]map[string]doctorCheck, len(m.Rows))
	for i, r := range m.Rows {
		var d struct {
			Checks []doctorCheck `json:"checks"`
		}
		if readJSON(filepath.Join(r.Dir, "doctor.json"), &d) != nil {
			continue
		}
		lines[i] = map[string]doctorCheck{}
		for _, c := range d.Checks {
			if !contains(names, c.Name) {
				names = append(names, c.Name)
			}
			lines[i][c.Name] = c
		}
	}
	if len(names) == 0 {
		return
	}
	p.printf("## pipelab doctor, kernel by kernel\n\n")
	p.printf("Each line's status; below the table, what doctor said where it is not OK (the post's symbols are in the table above).\n\n")
	head := []string{"doctor line"}
	for _, r := range m.Rows {
		head = append(head, r.Target.Series+" "+r.Target.Arch.Name)
	}
	var rows [][]string
	var notes []string
	for _, n := range names {
		row := []string{n}
		var order []string
		where := map[string][]string{}
		for i, r := range m.Rows {
			c, ok := lines[i][n]
			if !ok {
				row = append(row, "—")
				continue
			}
			row = append(row, c.Status)
			if c.Status != "OK" && n != "post's kernel symbols" {
				key := c.Status + ": " + c.Detail
				if where[key] == nil {
					order = append(order, key)
				}
				where[key] = append(where[key], r.Target.Series+" "+r.Target.Arch.Name)
			}
		}
		rows = append(rows, row)
		for _, key := range order {
			notes = append(notes, fmt.Sprintf("- %s (%s): %s", n, strings.Join(where[key], ", "), key))
		}
	}
	p.table(head, rows)
	p.printf("\n")
	if len(notes) > 0 {
		p.printf("%s\n\n", strings.Join(notes, "\n"))
	}
}

// writeCompare writes what compare made of the ladders.
func (m *Matrix) writeCompare(p *printer) {
	c := m.Compare
	if c == nil {
		return
	}
	p.printf("## pipelab compare over the ladders\n\n")
	p.printf("`%s` (from the matrix's output folder).\n\n", c.Command)
	if c.Err != "" {
		p.printf("FAIL: %s\n\n", c.Err)
		if c.Output != "" {
			p.printf("```\n%s\n```\n\n", strings.TrimSpace(c.Output))
		}
		return
	}
	var marks []string
	for i, e := range c.Emulated {
		s := "marked emulated"
		if !e {
			s = "FAIL: not marked as emulated (" + emulatedText + ")"
		}
		marks = append(marks, c.Folders[i]+": "+s)
	}
	p.printf("- %s.\n", strings.Join(marks, "; "))
	if len(c.Aliased) == 0 {
		p.printf("- FAIL: no post symbol matched under different names across the folders.\n\n")
		return
	}
	p.printf("- The post's symbols, and in parentheses the routines of one job the post does not name, that compare matched under different names:\n\n")
	head := append([]string{"post"}, c.Folders...)
	var rows [][]string
	for _, a := range c.Aliased {
		row := []string{"`" + a.Post + "`"}
		for _, n := range a.Names {
			if n == "" {
				n = "—"
			} else {
				n = "`" + n + "`"
			}
			row = append(row, n)
		}
		rows = append(rows, row)
	}
	p.table(head, rows)
	p.printf("\n")
}

// checkName is a check's name in the table.
func checkName(test string) string {
	if n, ok := checkNames[test]; ok {
		return n
	}
	return test
}

func firstOf(lines []string) string {
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// printer writes Markdown and keeps the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// table writes a Markdown table; pipes and newlines in cells are escaped.
func (p *printer) table(head []string, rows [][]string) {
	esc := strings.NewReplacer("|", `\|`, "\n", " ")
	line := func(cells []string) {
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = esc.Replace(c)
		}
		p.printf("| %s |\n", strings.Join(out, " | "))
	}
	line(head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = "---"
	}
	p.printf("|%s|\n", strings.Join(sep, "|"))
	for _, r := range rows {
		line(r)
	}
}
