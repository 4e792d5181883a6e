// Package fielderr renders what bench and profile say about a bad field
// of their options (bench.Options, profile.Config), and bench's warnings,
// without spelling a flag of the command line. A message names the field
// at fault and spells every other field it mentions as {Field}; whoever
// renders it says what each field is called: the libraries' Error and
// String methods by its Go name, cmd/pipelab by its flag. fielderr
// imports nothing of pipelab's and knows no flag.
package fielderr

import "strings"

// Message renders "FIELD VALUE: PROBLEM (REMEDY)" with every field (fields
// for FIELD, {Field} in problem and remedy) called by name(field), or by
// its Go name when name is nil. Fields that name alike (PinWriter and
// PinReader, both set by one flag) are named once; FIELD lists the others
// with commas. VALUE and its space are left out when value is empty,
// REMEDY and its parentheses when remedy is.
func Message(fields []string, value, problem, remedy string, name func(field string) string) string {
	if name == nil {
		name = func(field string) string { return field }
	}
	var names []string
	for _, f := range fields {
		if n := name(f); len(names) == 0 || names[len(names)-1] != n {
			names = append(names, n)
		}
	}
	s := strings.Join(names, ",")
	if value != "" {
		s += " " + value
	}
	s += ": " + expand(problem, name)
	if remedy != "" {
		s += " (" + expand(remedy, name) + ")"
	}
	return s
}

// Expand renders a text that spells fields as {Field}, such as a
// warning of bench's, with every field called by name(field), or by its
// Go name when name is nil. "{{" stands for a literal "{" (see Escape).
func Expand(s string, name func(field string) string) string {
	if name == nil {
		name = func(field string) string { return field }
	}
	return expand(s, name)
}

// Escape quotes s, a text that is no template (a command line, say), for
// a template: Expand gives it back unchanged.
func Escape(s string) string { return strings.ReplaceAll(s, "{", "{{") }

// expand replaces every {Field} in s with name(Field), and every "{{"
// with "{".
func expand(s string, name func(field string) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		if strings.HasPrefix(s[i+1:], "{") {
			b.WriteString(s[:i+1])
			s = s[i+2:]
			continue
		}
		j := strings.IndexByte(s[i+1:], '}')
		if j < 0 {
			break
		}
		b.WriteString(s[:i] + name(s[i+1:i+1+j]))
		s = s[i+2+j:]
	}
	return b.String() + s
}
