package throughput

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/result"
)

func TestThroughputGolden(t *testing.T) {
	steps := fixture.Steps(t)
	rows := Rows(steps)
	var txt, md, js, cs bytes.Buffer
	for _, err := range []error{WriteText(&txt, rows), WriteMarkdown(&md, rows), result.WriteSteps(&js, steps), WriteCSV(&cs, steps)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	fixture.Golden(t, "throughput.txt", txt.Bytes())
	fixture.Golden(t, "throughput.md", md.Bytes())
	fixture.Golden(t, "throughput.jsonl", js.Bytes())
	fixture.Golden(t, "throughput.csv", cs.Bytes())
}

func TestThroughputFigures(t *testing.T) {
	rows := Rows(fixture.Steps(t))
	if len(rows) != 5 {
		t.Fatalf("got %d rows, want 5", len(rows))
	}
	for i, r := range rows {
		if !(r.Min <= r.Median && r.Median <= r.Max) || r.N != 5 {
			t.Errorf("%s: min %v median %v max %v n %d; want min <= median <= max, n=5", r.Mode, r.Min, r.Median, r.Max, r.N)
		}
		if i == 0 {
			continue
		}
		if want := r.Median / rows[i-1].Median; r.VsPrev != want {
			t.Errorf("%s: speedup over previous %v, want %v", r.Mode, r.VsPrev, want)
		}
		if want := r.Median / rows[0].Median; r.VsFirst != want {
			t.Errorf("%s: speedup over first %v, want %v", r.Mode, r.VsFirst, want)
		}
	}
	// write (0.86-1.85) vs vmsplice (5.3-6.6): every run faster, so the
	// U-test with 5+5 runs gives its smallest p-value.
	if r := rows[1]; r.DeltaPrev == "~" || r.P > 0.01 {
		t.Errorf("vmsplice vs write: delta %s p=%v, want a significant change", r.DeltaPrev, r.P)
	}
	// huge vs splice overlap: no significant change.
	if r := rows[3]; r.DeltaPrev != "~" {
		t.Errorf("huge vs splice: delta %s (p=%v), want ~", r.DeltaPrev, r.P)
	}
	if rows[0].Post != 3.7 || rows[4].Post != 62.5 {
		t.Errorf("post figures write %v busy %v, want 3.7 and 62.5", rows[0].Post, rows[4].Post)
	}
}

func TestThroughputWithoutRuns(t *testing.T) {
	rows := Rows([]result.Step{{Settings: result.Settings{Mode: "write"}, MedianGiBs: 2, MinGiBs: 1.5, MaxGiBs: 2.2}, {Settings: result.Settings{Mode: "busy"}, MedianGiBs: 8, MinGiBs: 8, MaxGiBs: 8}})
	if rows[0].Spread != "25%" || !rows[0].RangeSpread {
		t.Errorf("spread %q (range %v), want 25%% from the range", rows[0].Spread, rows[0].RangeSpread)
	}
	if rows[1].VsPrev != 4 || rows[1].DeltaPrev != "" {
		t.Errorf("busy: speedup %v delta %q, want 4 and no test without runs", rows[1].VsPrev, rows[1].DeltaPrev)
	}
}

// measureColumns are the columns of the post's measure.py, in its order.
const measureColumns = "name,gibibytes_per_second,bytes_to_pipe,buf_size,pipe_size,busy_loop,poll,huge_page,check_huge_page,write_with_vmsplice,read_with_splice,gift,lock_memory,dont_touch_pages,same_buffer"

// csvCheck reads a CSV on stdin with Python's csv module the way
// measure.py's columns are typed (the rate a float, sizes integers, knobs
// 0/1 booleans) and prints, per name, the rows and the mean rate, then
// the last row's knobs.
const csvCheck = `
import csv, sys
want = sys.argv[1].split(",")
rows = list(csv.DictReader(sys.stdin))
fields = list(rows[0].keys())
if fields[:len(want)] != want:
    sys.exit("header %s, want %s first" % (fields, want))
rates = {}
for r in rows:
    rate = float(r["gibibytes_per_second"])
    for k in ("bytes_to_pipe", "buf_size", "pipe_size"):
        int(r[k])
    for k in want[5:]:
        if r[k] not in ("0", "1"):
            sys.exit("%s: %r is not a 0/1 boolean" % (k, r[k]))
    rates.setdefault(r["name"], []).append(rate)
for name, rs in rates.items():
    print("%s %d %.4f" % (name, len(rs), sum(rs) / len(rs)))
last = rows[-1]
print(" ".join("%s=%s" % (k, last[k]) for k in ("busy_loop", "huge_page", "write_with_vmsplice", "read_with_splice", "run")))
`

// TestStepsCSVReadsAsMeasurePy feeds WriteCSV's output through
// Python's csv module with measure.py's column list.
func TestStepsCSVReadsAsMeasurePy(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skipf("no python3 to read the CSV as measure.py does: %v", err)
	}
	var buf bytes.Buffer
	steps := fixture.Steps(t)
	if err := WriteCSV(&buf, steps); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", csvCheck, measureColumns)
	cmd.Stdin = &buf
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	var want strings.Builder
	for _, s := range steps {
		sum := 0.0
		for _, g := range s.Runs {
			sum += g
		}
		fmt.Fprintf(&want, "%s %d %.4f\n", s.Mode, len(s.Runs), sum/float64(len(s.Runs)))
	}
	want.WriteString("busy_loop=1 huge_page=1 write_with_vmsplice=1 read_with_splice=1 run=5\n")
	if string(out) != want.String() {
		t.Errorf("python3 read:\n%s\nwant:\n%s", out, want.String())
	}
}

func TestStepsJSONRoundTrip(t *testing.T) {
	steps := fixture.Steps(t)
	var buf bytes.Buffer
	if err := result.WriteSteps(&buf, steps); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(steps) {
		t.Fatalf("got %d lines, want one per step (%d)", len(lines), len(steps))
	}
	var s result.Step
	if err := json.Unmarshal([]byte(lines[2]), &s); err != nil {
		t.Fatal(err)
	}
	if s.Mode != "splice" || len(s.Runs) != 5 || s.Roles[1].Profile != filepath.Join("splice.reader.pb.gz") {
		t.Errorf("line 3 = %+v, want the splice step with its runs and roles", s)
	}
}

// TestThroughputFewRuns: with 3 runs a U-test cannot reach alpha 0.05, so
// the change is "too few runs", not "~" (no change), however far apart
// the medians are.
func TestThroughputFewRuns(t *testing.T) {
	steps := fixture.Steps(t)[:2]
	steps[0].Runs, steps[1].Runs = steps[0].Runs[:3], steps[1].Runs[:3]
	rows := Rows(steps)
	if !rows[1].FewRuns || rows[1].DeltaPrev != "~" {
		t.Errorf("3 runs each: FewRuns %v, delta %q; want true and ~", rows[1].FewRuns, rows[1].DeltaPrev)
	}
	var b bytes.Buffer
	if err := WriteText(&b, rows); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "too few runs") {
		t.Errorf("table does not say too few runs:\n%s", b.String())
	}
	if rows := Rows(fixture.Steps(t)[:2]); rows[1].FewRuns {
		t.Errorf("5 runs each: FewRuns set")
	}
}
