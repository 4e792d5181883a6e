package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/internal/fixture"
	"github.com/pipelab/pipelab/result"
)

// TestReportSaysEmulated: a ladder measured on an emulated CPU says so in
// report.md, under the title and in the environment table, so that nobody
// reads its timings as the hardware's.
func TestReportSaysEmulated(t *testing.T) {
	dir := fixture.LadderFolder(t)
	fixture.Emulate(t, dir)
	if err := Write(dir, attribute.Options{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, result.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\n**emulated CPU (QEMU TCG): timings are not the hardware's** (MIDR implementer 0x00 part 0x051 (QEMU's -cpu max)). The functional results stand",
		"| architecture | arm64 |",
		"| CPU emulation | emulated CPU (QEMU TCG): timings are not the hardware's (MIDR implementer 0x00 part 0x051 (QEMU's -cpu max)) |",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

// TestReportSaysLeftOut: the steps a ladder left out because the machine
// cannot run them are listed in report.md with their reasons, beside the
// steps that ran.
func TestReportSaysLeftOut(t *testing.T) {
	dir := fixture.LadderFolder(t)
	reason := "needs transparent huge pages, which are off: /sys/kernel/mm/transparent_hugepage/enabled is never (echo madvise > /sys/kernel/mm/transparent_hugepage/enabled)"
	fixture.EditLadder(t, dir, func(l *result.Ladder) {
		l.Skipped = []result.Skip{{Mode: "write-huge", Reason: reason}, {Mode: "vmsplice-huge", Reason: reason}}
	})
	if err := Write(dir, attribute.Options{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, result.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	want := "**Left out**: 2 of the steps asked for, which this machine or the options given cannot run; the others ran.\n\n- `write-huge`: " + reason + ".\n- `vmsplice-huge`: " + reason + ".\n"
	if !strings.Contains(string(md), want) {
		t.Errorf("report.md lacks\n%s", want)
	}
	if !strings.Contains(string(md), "\n### write ") {
		t.Error("report.md lost the steps that ran")
	}
}

// TestReportTitleBeside: report.md's first line names the pipe steps as
// the post's, and the steps of other transports (the ceilings) as
// standing beside them, not as the post's.
func TestReportTitleBeside(t *testing.T) {
	dir := fixture.LadderFolder(t)
	fixture.EditLadder(t, dir, func(l *result.Ladder) {
		l.Steps[len(l.Steps)-1].Transport = "ring"
	})
	if err := Write(dir, attribute.Options{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, result.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	want := "The steps of \"How fast are Linux pipes anyway?\" (write → vmsplice → splice → huge) replayed on "
	if !strings.Contains(string(md), want) || !strings.Contains(string(md), ", beside `busy`: throughput,") {
		t.Errorf("report.md's title does not set busy, of another transport, beside the post's steps:\n%s", strings.SplitN(string(md), "\n\n", 3)[1])
	}
}
