package bench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/internal/testenv"
)

// mustHaveHugePages skips unless a madvised buffer really gets a
// transparent huge page here (probed, not guessed from the THP mode); with
// PIPELAB_REQUIRE_PERF=1 it fails instead.
func mustHaveHugePages(t *testing.T) {
	t.Helper()
	testenv.Require(t, ProbeHugePage(), "huge pages")
}

// one returns options for a single short real run of mode: 16MiB, one
// repeat, writer and reader pinned as DefaultOptions pins them.
func one(mode string) Options {
	o := DefaultOptions()
	o.Mode = mode
	o.Bytes = 16 << 20
	o.Repeat = 1
	return o
}

// runOne runs o, which must succeed with exactly one complete run moving
// exactly o.Bytes, and checks that no child outlived Run.
func runOne(t *testing.T, o Options) RunResult {
	t.Helper()
	res, err := Run(context.Background(), o, nil, nil)
	noChildren(t)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(res.Runs) != 1 {
		t.Fatalf("got %d runs, want 1", len(res.Runs))
	}
	r := res.Runs[0]
	if r.Partial || r.Bytes != o.Bytes || r.Reader.Bytes != o.Bytes {
		t.Fatalf("reader got %d bytes (report %d, partial %v), want %d", r.Bytes, r.Reader.Bytes, r.Partial, o.Bytes)
	}
	return r
}

// noChildren fails the test if any child of this process, zombie or not,
// is left (Run must kill and reap both children before it returns).
func noChildren(t *testing.T) {
	t.Helper()
	if kids := testenv.Children(os.Getpid()); len(kids) > 0 {
		t.Errorf("child processes left after Run: %v", kids)
	}
}

// observer is an Observer made of optional funcs, for tests.
type observer struct {
	attach      func(writer, reader int) error
	start, stop func() error
}

func (o *observer) Attach(w, r int) error {
	if o.attach == nil {
		return nil
	}
	return o.attach(w, r)
}

func (o *observer) Start() error {
	if o.start == nil {
		return nil
	}
	return o.start()
}

func (o *observer) Stop() error {
	if o.stop == nil {
		return nil
	}
	return o.stop()
}

// statusKiB reads a "Name:   1234 kB" line of /proc/PID/status.
func statusKiB(t *testing.T, pid int, name string) int64 {
	t.Helper()
	return procKiB(t, pid, "status", name)
}

// procKiB reads a "Name:   1234 kB" line of /proc/PID/file.
func procKiB(t *testing.T, pid int, file, name string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + file)
	if err != nil {
		t.Fatalf("read %s of %d: %v", file, pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("parse %s %q: %v", name, v, err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/%s", name, pid, file)
	return 0
}

// texts renders warnings as String does, by Go names.
func texts(ws []Warning) []string {
	var s []string
	for _, w := range ws {
		s = append(s, w.String())
	}
	return s
}
