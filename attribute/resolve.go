package attribute

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pipelab/pipelab/internal/kallsyms"
	"github.com/pipelab/pipelab/internal/tally"
)

// AliasStatus says how one of the post's kernel symbols resolves on one
// kernel.
type AliasStatus struct {
	// Post is the post's name, e.g. "pipe_write".
	Post string `json:"post"`
	// Found are the alias symbols present in the kernel's symbol table, in
	// the alias table's order.
	Found []string `json:"found"`
	// Symbols has one entry per real symbol of the alias.
	Symbols []SymbolStatus `json:"symbols"`
}

// SymbolStatus is one real symbol of an alias on one kernel.
type SymbolStatus struct {
	Name string `json:"name"`
	// Present is true when the symbol table holds it (suffixes such as
	// .constprop.0 and __pfx_ padding ignored).
	Present bool `json:"present"`
	// Expected is true when the alias table says this kernel release has
	// it as a symbol of its own: within [Since, Until) and not a static
	// function the compiler may inline.
	Expected bool `json:"expected"`
}

// ResolveAliases reads a /proc/kallsyms-format symbol table and says, for
// every entry of aliases, which of its symbols the kernel with the given
// release (uname -r, e.g. "6.18.0-1-amd64") has.
func ResolveAliases(table io.Reader, release string) ([]AliasStatus, error) {
	have := map[string]bool{}
	err := kallsyms.Parse(table, func(s kallsyms.Symbol) { have[tally.KernelName(s.Name)] = true })
	if err != nil {
		return nil, fmt.Errorf("read symbol table: %w", err)
	}
	if len(have) == 0 {
		return nil, fmt.Errorf("read symbol table: no symbols")
	}
	out := make([]AliasStatus, 0, len(tally.Aliases))
	for _, a := range tally.Aliases {
		st := AliasStatus{Post: a.Post}
		for _, s := range a.Symbols {
			ss := SymbolStatus{Name: s.Name, Present: have[s.Name], Expected: !s.Static && existsIn(s, release)}
			if ss.Present {
				st.Found = append(st.Found, s.Name)
			}
			st.Symbols = append(st.Symbols, ss)
		}
		out = append(out, st)
	}
	return out, nil
}

// existsIn reports whether the symbol's [Since, Until) range holds the
// kernel release. An unparsable release counts as inside every range.
func existsIn(s tally.Symbol, release string) bool {
	v, ok := parseVersion(release)
	if !ok {
		return true
	}
	if s.Since != "" {
		if since, ok := parseVersion(s.Since); ok && v < since {
			return false
		}
	}
	if s.Until != "" {
		if until, ok := parseVersion(s.Until); ok && v >= until {
			return false
		}
	}
	return true
}

// parseVersion turns "6.18.0-1-amd64" or "6.10" into major*1000+minor.
func parseVersion(s string) (int, bool) {
	major, rest, ok := strings.Cut(s, ".")
	if !ok {
		return 0, false
	}
	minor := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = rest[:i]
	}
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return ma*1000 + mi, true
}
