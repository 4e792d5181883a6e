// Package kallsyms reads the kernel's symbol table in the format of
// /proc/kallsyms: one "ADDR TYPE NAME" line per symbol, with
// "\t[MODULE]" after the symbols of a loadable module. It is the one
// parser of that format in pipelab: profile builds its address table on
// it, attribute checks the alias table against it.
//
// It parses bytes a caller hands it and never opens a file.
package kallsyms

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
)

// Symbol is one line of the table.
type Symbol struct {
	// Addr is the symbol's address; 0 for every symbol when
	// kernel.kptr_restrict hides them from the reader.
	Addr uint64
	// Type is nm's type letter: t or T for text (code), w or W for a weak
	// symbol, d or D for data, and so on.
	Type byte
	// Name is the symbol as the kernel spells it, suffixes
	// (".constprop.0") included.
	Name string
	// Module is the module the symbol belongs to, "" for the core kernel
	// image.
	Module string
}

// Text reports whether the symbol is code (types t, T, w, W).
func (s Symbol) Text() bool {
	switch s.Type {
	case 't', 'T', 'w', 'W':
		return true
	}
	return false
}

// maxLine bounds a line of the table; no kernel symbol comes near it.
const maxLine = 1 << 20

// Parse calls each for every well-formed line of r, in order. Lines it
// does not understand (too few fields, an address that is not hex, a
// type of more than one letter, a module not in brackets) are skipped.
// The error is r's, or a line longer than 1 MiB.
func Parse(r io.Reader, each func(Symbol)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	for sc.Scan() {
		if s, ok := parseLine(sc.Bytes()); ok {
			each(s)
		}
	}
	return sc.Err()
}

// parseLine splits one line; ok is false for a malformed one.
func parseLine(line []byte) (s Symbol, ok bool) {
	fields := bytes.Fields(line)
	if len(fields) < 3 || len(fields[1]) != 1 {
		return Symbol{}, false
	}
	addr, err := strconv.ParseUint(string(fields[0]), 16, 64)
	if err != nil {
		return Symbol{}, false
	}
	s = Symbol{Addr: addr, Type: fields[1][0], Name: string(fields[2])}
	if len(fields) >= 4 {
		m := fields[3]
		if len(m) < 3 || m[0] != '[' || m[len(m)-1] != ']' {
			return Symbol{}, false
		}
		s.Module = string(m[1 : len(m)-1])
	}
	return s, true
}
