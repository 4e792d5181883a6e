package profile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The wake-up recording reads two files of a sched tracepoint from
// tracefs: events/sched/NAME/id, the tracepoint's id that perf_event_open
// takes as the config of a PERF_TYPE_TRACEPOINT event, and
// events/sched/NAME/format, the layout of the raw payload that
// PERF_SAMPLE_RAW copies into each sample.

// TracefsMountPoint is where pipelab mounts tracefs when asked, the
// kernel's documented place for it (since Linux 4.1).
const TracefsMountPoint = "/sys/kernel/tracing"

// ErrNoTracefs is wrapped by errors saying that tracefs is not mounted,
// so sched tracepoints cannot be named.
var ErrNoTracefs = errors.New("tracefs is not mounted")

// tracefsRemedy is the remedy for ErrNoTracefs.
const tracefsRemedy = "mount -t tracefs nodev " + TracefsMountPoint + " as root"

// TracefsDir returns where tracefs is mounted: the first tracefs mount
// in /proc/self/mounts, or the tracing directory of a mounted debugfs.
// It wraps ErrNoTracefs when there is none.
func TracefsDir() (string, error) {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return "", fmt.Errorf("find tracefs: %w", err)
	}
	defer f.Close()
	dir, err := tracefsFromMounts(f)
	if err != nil {
		return "", fmt.Errorf("find tracefs: %w", err)
	}
	if dir == "" {
		return "", fmt.Errorf("find tracefs: %w (%s)", ErrNoTracefs, tracefsRemedy)
	}
	return dir, nil
}

// tracefsFromMounts finds tracefs in a mount table in the format of
// /proc/self/mounts: a tracefs mount, else debugfs's tracing directory
// when it has events (the automount under debugfs). "" when neither.
func tracefsFromMounts(r io.Reader) (string, error) {
	var debugfs string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		switch f[2] {
		case "tracefs":
			return unescapeMount(f[1]), nil
		case "debugfs":
			if debugfs == "" {
				debugfs = unescapeMount(f[1])
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	if debugfs != "" {
		dir := filepath.Join(debugfs, "tracing")
		if _, err := os.Stat(filepath.Join(dir, "events")); err == nil {
			return dir, nil
		}
	}
	return "", nil
}

// unescapeMount undoes the octal escapes (\040 for a space) of a mount
// point in /proc/self/mounts.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// MountTracefs mounts tracefs at TracefsMountPoint. Only `pipelab doctor
// --mount-tracefs` calls it: pipelab never changes the system unasked.
func MountTracefs() error {
	if err := unix.Mount("nodev", TracefsMountPoint, "tracefs", 0, ""); err != nil {
		return fmt.Errorf("mount -t tracefs nodev %s: %w", TracefsMountPoint, err)
	}
	return nil
}

// field is one field of a tracepoint's format file.
type field struct {
	offset, size int
	signed       bool
}

// tracepointFormat is a parsed events/CATEGORY/NAME/format file: the
// fields of the raw payload by name.
type tracepointFormat struct {
	name   string
	fields map[string]field
}

// parseFormat parses a tracepoint format file: lines such as
// "\tfield:pid_t pid;\toffset:24;\tsize:4;\tsigned:1;". The field's name
// is the last word of its declaration, without an array suffix.
func parseFormat(r io.Reader) (tracepointFormat, error) {
	tf := tracepointFormat{fields: map[string]field{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if n, ok := strings.CutPrefix(line, "name:"); ok {
			tf.name = strings.TrimSpace(n)
			continue
		}
		if !strings.HasPrefix(line, "field:") {
			continue
		}
		name, f, err := parseField(line)
		if err != nil {
			return tf, fmt.Errorf("parse tracepoint format %q: %w", line, err)
		}
		tf.fields[name] = f
	}
	if err := sc.Err(); err != nil {
		return tf, fmt.Errorf("parse tracepoint format: %w", err)
	}
	return tf, nil
}

// parseField parses one "field:DECL;\toffset:N;\tsize:N;\tsigned:N;" line.
func parseField(line string) (string, field, error) {
	var f field
	var name string
	for _, part := range strings.Split(line, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			continue
		}
		var err error
		switch k {
		case "field":
			words := strings.Fields(v)
			if len(words) == 0 {
				return "", f, errors.New("field without a name")
			}
			name, _, _ = strings.Cut(words[len(words)-1], "[")
		case "offset":
			f.offset, err = strconv.Atoi(v)
		case "size":
			f.size, err = strconv.Atoi(v)
		case "signed":
			f.signed = v == "1"
		}
		if err != nil {
			return "", f, err
		}
	}
	if name == "" || f.offset < 0 || f.size <= 0 {
		return "", f, errors.New("field without name, offset or size")
	}
	return name, f, nil
}

// readTracepoint reads the id and the format of tracepoint
// CATEGORY/NAME under tracefs dir.
func readTracepoint(dir, category, name string) (uint64, tracepointFormat, error) {
	base := filepath.Join(dir, "events", category, name)
	b, err := os.ReadFile(filepath.Join(base, "id"))
	if err != nil {
		return 0, tracepointFormat{}, fmt.Errorf("tracepoint %s:%s: %w", category, name, err)
	}
	id, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, tracepointFormat{}, fmt.Errorf("tracepoint %s:%s: id: %w", category, name, err)
	}
	f, err := os.Open(filepath.Join(base, "format"))
	if err != nil {
		return 0, tracepointFormat{}, fmt.Errorf("tracepoint %s:%s: %w", category, name, err)
	}
	defer f.Close()
	tf, err := parseFormat(f)
	if err != nil {
		return 0, tf, fmt.Errorf("tracepoint %s:%s: %w", category, name, err)
	}
	return id, tf, nil
}
