package matrix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// emulatedText is what pipelab says of a result measured on an emulated
// CPU; compare must say it of every folder of the matrix.
const emulatedText = "emulated CPU (QEMU TCG)"

// Compare is `pipelab compare` over the matrix's ladders, run on the host.
type Compare struct {
	// Folders are the targets whose ladders were compared, in order.
	Folders []string
	// Command is the command line, as a user would type it from the
	// matrix's output folder.
	Command string
	// Err is set when compare failed; Output holds its stderr then.
	Err    string
	Output string
	// Aliased are the post's symbols compare matched under different
	// names in different folders.
	Aliased []AliasRow
	// Emulated says, per folder, whether compare marks it as emulated.
	Emulated []bool
}

// AliasRow is one of the post's symbols matched across folders under
// different names: Names per folder, "" where absent.
type AliasRow struct {
	Post  string
	Names []string
}

// compareLadders runs host's compare over the ladders of rows that have
// one. Nil when fewer than two have.
func compareLadders(host string, rows []*Row) *Compare {
	c := &Compare{}
	var dirs []string
	for _, r := range rows {
		dir := filepath.Join(r.Dir, "ladder")
		if _, err := os.Stat(filepath.Join(dir, "ladder.json")); err == nil {
			dirs = append(dirs, dir)
			c.Folders = append(c.Folders, r.Target.String())
		}
	}
	if len(dirs) < 2 {
		return nil
	}
	rel := make([]string, len(dirs))
	for i, d := range dirs {
		rel[i] = filepath.Join(filepath.Base(filepath.Dir(d)), "ladder")
	}
	c.Command = "pipelab compare " + strings.Join(rel, " ")
	jsonOut, err := run(host, append([]string{"compare", "--format", "json", "--top", "40"}, dirs...))
	if err != nil {
		c.Err, c.Output = "compare --format json: "+err.Error(), jsonOut
		return c
	}
	text, err := run(host, append([]string{"compare"}, dirs...))
	if err != nil {
		c.Err, c.Output = "compare: "+err.Error(), text
		return c
	}
	if err := c.read([]byte(jsonOut), text); err != nil {
		c.Err = err.Error()
	}
	return c
}

// read fills Aliased and Emulated from compare's JSON and text outputs.
func (c *Compare) read(jsonOut []byte, text string) error {
	var l struct {
		Folders []struct {
			Env map[string]any `json:"env"`
		} `json:"folders"`
		Steps []struct {
			Roles []struct {
				Symbols []struct {
					Post    string   `json:"post"`
					Routine string   `json:"routine"`
					Names   []string `json:"names"`
				} `json:"symbols"`
			} `json:"roles"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(jsonOut, &l); err != nil {
		return fmt.Errorf("compare --format json: %w", err)
	}
	// Per post symbol (or routines' job, in parentheses) and folder, every
	// real name seen in any step or role.
	names := map[string][]map[string]bool{}
	var posts []string
	for _, st := range l.Steps {
		for _, r := range st.Roles {
			for _, s := range r.Symbols {
				key := s.Post
				if key == "" && s.Routine != "" {
					key = "(" + s.Routine + ")"
				}
				if key == "" {
					continue
				}
				if names[key] == nil {
					names[key] = make([]map[string]bool, len(l.Folders))
					posts = append(posts, key)
				}
				for i, n := range s.Names {
					if i >= len(l.Folders) || n == "" {
						continue
					}
					if names[key][i] == nil {
						names[key][i] = map[string]bool{}
					}
					for _, part := range strings.FieldsFunc(n, func(r rune) bool { return r == ',' || r == '+' || r == ' ' }) {
						names[key][i][part] = true
					}
				}
			}
		}
	}
	sort.Strings(posts)
	for _, post := range posts {
		row := AliasRow{Post: post}
		for _, set := range names[post] {
			row.Names = append(row.Names, joinSorted(set))
		}
		if distinct(row.Names) >= 2 {
			c.Aliased = append(c.Aliased, row)
		}
	}
	c.Emulated = make([]bool, len(l.Folders))
	for i, f := range l.Folders {
		env, _ := json.Marshal(f.Env)
		c.Emulated[i] = strings.Contains(string(env), emulatedText) && strings.Contains(text, emulatedText)
	}
	return nil
}

// Failed reports whether compare failed, matched no renamed symbol, or
// left a folder unmarked as emulated.
func (c *Compare) Failed() bool {
	if c == nil {
		return false
	}
	if c.Err != "" || len(c.Aliased) == 0 {
		return true
	}
	for _, e := range c.Emulated {
		if !e {
			return true
		}
	}
	return false
}

// joinSorted joins a set's names in order, comma separated.
func joinSorted(set map[string]bool) string {
	var out []string
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// distinct counts the distinct non-empty spellings, a folder's being the
// set of its comma-separated names in any order.
func distinct(names []string) int {
	set := map[string]bool{}
	for _, n := range names {
		if n == "" {
			continue
		}
		parts := strings.Split(n, ", ")
		sort.Strings(parts)
		set[strings.Join(parts, ", ")] = true
	}
	return len(set)
}

// run runs bin with args and returns its stdout, or an error carrying
// the first line of its stderr.
func run(bin string, args []string) (string, error) {
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		line, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		return stdout.String(), fmt.Errorf("exit status %d: %s", ee.ExitCode(), line)
	}
	return stdout.String(), err
}
