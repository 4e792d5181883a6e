package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/profile"
	"github.com/pipelab/pipelab/result"
)

// TestProfileNoSamples profiles a transfer shorter than one sampling
// period: no role takes a sample, so pipelab says why and what to do in
// one line, writes no profile that would look like a result, and exits 1;
// a ladder step does the same.
func TestProfileNoSamples(t *testing.T) {
	mustHavePerfEvents(t)
	dir := t.TempDir()
	const want = "pipelab: no samples in the writer or the reader: the profiled transfers took less than one sampling period (100.00ms at --freq 10); raise --bytes or --freq, or let --samples 1000 size the transfers; no profile written\n"
	stdout, stderr, code := pipelab(t, dir, "profile", "--mode", "write", "--bytes", "4KiB", "--freq", "10", "--out", "out")
	if code != 1 || stderr != want {
		t.Errorf("profile of 4KiB at --freq 10: exit %d, stderr\n%s\nwant exit 1 and\n%s", code, stderr, want)
	}
	if !strings.Contains(stdout, "samples                   0  0") {
		t.Errorf("the counters table does not show 0 samples in both roles:\n%s", stdout)
	}
	if files := listFiles(t, filepath.Join(dir, "out")); len(files) > 0 {
		t.Errorf("files written for a profile with no samples: %v", files)
	}

	_, stderr, code = pipelab(t, dir, "ladder", "--modes", "write", "--bytes", "4KiB", "--freq", "10", "--repeat", "1", "--out", "lad")
	wantLadder := "ladder: 1 rounds of write, in a new order each round ...\npipelab: ladder step write: " + strings.TrimPrefix(want, "pipelab: ")
	if code != 1 || stderr != wantLadder {
		t.Errorf("ladder of 4KiB at --freq 10: exit %d, stderr\n%s\nwant exit 1 and\n%s", code, stderr, wantLadder)
	}
	if files := listFiles(t, filepath.Join(dir, "lad")); len(files) != 1 || files[0] != result.LadderFile {
		t.Errorf("ladder with no samples wrote %v, want only %s (status failed)", files, result.LadderFile)
	}
}

// TestProfileUnprivilegedNoSamples profiles as a user whom
// kernel.perf_event_paranoid keeps to user space, for less than a
// sampling period: the line names the setting as well as the short run.
func TestProfileUnprivilegedNoSamples(t *testing.T) {
	mustHavePerfEvents(t)
	if paranoid() < 2 {
		t.Skipf("kernel.perf_event_paranoid=%d lets users sample the kernel", paranoid())
	}
	dir, out, err := asNobody(t, "profile", "--mode", "write", "--bytes", "4KiB", "--freq", "10", "--out", "out")
	var ee interface{ ExitCode() int }
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("profile as uid 65534: %v, want exit status 1\n%s", err, out)
	}
	want := fmt.Sprintf("pipelab: no samples in the writer or the reader: sampling user space only (kernel.perf_event_paranoid=%d keeps the kernel side from users without CAP_PERFMON) misses the time spent in the kernel, where a pipe's work is, and the profiled transfers took less than one sampling period (100.00ms at --freq 10); run as root, set kernel.perf_event_paranoid to 1 or lower, or grant CAP_PERFMON; and raise --bytes or --freq, or let --samples 1000 size the transfers; no profile written", paranoid())
	if !strings.Contains("\n"+string(out), "\n"+want+"\n") {
		t.Errorf("output has no line\n%s\n:\n%s", want, out)
	}
	if files := listFiles(t, filepath.Join(dir, "out")); len(files) > 0 {
		t.Errorf("files written for a profile with no samples: %v", files)
	}
}

// TestEmptyRoles checks the causes emptyRoles tells apart, on steps made
// up for each.
func TestEmptyRoles(t *testing.T) {
	taskClock := func(ms float64) []result.Counter {
		return []result.Counter{{Name: "task-clock", Supported: true, Value: ms * 1e6}}
	}
	run := bench.RunResult{Duration: 2 * time.Second}
	const short = "raise --bytes or --freq, or let --samples 1000 size the transfers"
	for _, tc := range []struct {
		name    string
		mode    string
		roles   []result.RoleSummary
		lines   []string
		failure string
	}{
		{
			name: "lost",
			roles: []result.RoleSummary{
				{Role: "writer", Lost: 7, CountedRuns: 1, Counters: taskClock(900)},
				{Role: "reader", Samples: 300, CountedRuns: 1, Counters: taskClock(900)},
			},
			lines: []string{"writer: no samples: the kernel dropped all 7 of them (lost samples); lower --freq, or raise kernel.perf_event_mlock_kb"},
		},
		{
			name: "asleep",
			roles: []result.RoleSummary{
				{Role: "writer", Samples: 300, CountedRuns: 1, Counters: taskClock(900)},
				{Role: "reader", CountedRuns: 1, Counters: taskClock(0.4)},
			},
			lines: []string{"reader: no samples: the time on a CPU over the profiled transfers (by the task-clock counter) was under one sampling period (1.00ms at --freq 1000); " + short},
		},
		{
			name: "copy writer",
			mode: "copy",
			roles: []result.RoleSummary{
				{Role: "writer", CountedRuns: 1, Counters: taskClock(0.1)},
				{Role: "reader", Samples: 300, CountedRuns: 1, Counters: taskClock(900)},
			},
		},
		{
			name: "off-CPU only",
			roles: []result.RoleSummary{
				{Role: "writer", OffCPUNanos: 2e9},
				{Role: "reader", OffCPUNanos: 2e9},
			},
			lines: []string{
				"writer: no samples: for no reason pipelab can tell; pipelab doctor says what this machine allows; " + short,
				"reader: no samples: for no reason pipelab can tell; pipelab doctor says what this machine allows; " + short,
			},
		},
		{
			name: "each its own",
			roles: []result.RoleSummary{
				{Role: "writer", Lost: 3},
				{Role: "reader", CountedRuns: 1, Counters: taskClock(0.2)},
			},
			failure: "no samples in the writer (the kernel dropped all 3 of them (lost samples); lower --freq, or raise kernel.perf_event_mlock_kb) or the reader (the time on a CPU over the profiled transfers (by the task-clock counter) was under one sampling period (1.00ms at --freq 1000); " + short + "); no profile written",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := bench.DefaultOptions()
			o.Mode = "write"
			if tc.mode != "" {
				o.Mode = tc.mode
			}
			sr := &stepRuns{o: o}
			sr.res[profiled] = &bench.Result{Runs: []bench.RunResult{run}}
			step := &result.Step{Roles: tc.roles}
			lines, err := emptyRoles(step, sr, &profile.Result{}, 1000)
			if strings.Join(lines, "\n") != strings.Join(tc.lines, "\n") {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(tc.lines, "\n"))
			}
			var got string
			if err != nil {
				got = err.Error()
			}
			if got != tc.failure {
				t.Errorf("failure:\n%s\nwant:\n%s", got, tc.failure)
			}
		})
	}
}

// listFiles lists the names in dir, but for hidden ones.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	for _, name := range fixture.ListDir(t, dir) {
		if !strings.HasPrefix(name, ".") {
			names = append(names, name)
		}
	}
	return names
}
