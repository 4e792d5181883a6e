package matrix

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// feed reads text into a Console line by line, with the serial console's
// \r\n line ends.
func feed(text string) *Console {
	c := &Console{}
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		c.Line(l + "\r")
	}
	return c
}

// tarGz makes the tar.gz a guest's busybox tar would send.
func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	for _, name := range []string{"doctor.json", "ladder/ladder.json"} {
		if _, ok := files[name]; !ok {
			continue
		}
		tw.WriteHeader(&tar.Header{Name: "./" + name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(files[name]))})
		tw.Write([]byte(files[name]))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// wrap76 splits s into base64's 76-column lines, as busybox base64 does.
func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	return b.String() + s + "\n"
}

func TestConsoleFinished(t *testing.T) {
	boot, err := os.ReadFile("testdata/console-6.12-amd64.txt")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"doctor.json": `{"checks":[]}`, "ladder/ladder.json": "{}"}
	b64 := wrap76(base64.StdEncoding.EncodeToString(tarGz(t, files)))
	// A kernel message printed between two base64 lines is not part of the file.
	lines := strings.SplitAfter(b64, "\n")
	b64 = lines[0] + "[   30.123456] random: crng reseeded on system resumption\n" + strings.Join(lines[1:], "")
	c := feed(string(boot) + "@@matrix file out.tar.gz\n" + b64 + "@@matrix end\n@@matrix done\n")
	if !c.Booted || c.Release != "6.12.118+deb12-cloud-amd64" || c.Machine != "x86_64" || !c.TestsEnded || c.TestsExit != 1 || !c.Done {
		t.Fatalf("got booted %v release %q machine %q tests ended %v exit %d done %v; want the fixture's", c.Booted, c.Release, c.Machine, c.TestsEnded, c.TestsExit, c.Done)
	}
	if c.Oops != nil {
		t.Errorf("got oops %q, want none", c.Oops)
	}
	var names []string
	for _, tr := range c.Tests {
		names = append(names, tr.Name+" "+tr.Status)
	}
	want := []string{"TestDoctor PASS", "TestSymbols SKIP", "TestRun FAIL", "TestRun/write PASS", "TestRun/busy FAIL", "TestLadder RUN"}
	if !slices.Equal(names, want) {
		t.Errorf("tests: got %q, want %q", names, want)
	}
	if r := c.Test("TestDoctor").Result; r != "11 OK; LIMITED hardware counters; LIMITED gup_test" {
		t.Errorf("TestDoctor result %q", r)
	}
	if o := c.Test("TestSymbols").Output; len(o) != 1 || o[0] != "no symbol table: open /proc/kallsyms: no such file or directory" {
		t.Errorf("TestSymbols output %q, want its skip reason", o)
	}
	if o := c.Test("TestRun/busy").Output; len(o) != 2 || o[0] != "exit status 1: pipelab: busy: the reader stalled" {
		t.Errorf("TestRun/busy output %q", o)
	}
	if o := c.Test("TestLadder").Output; len(o) == 0 || o[0] != "panic: test timed out after 7m0s" {
		t.Errorf("TestLadder output %q, want the test binary's panic", o)
	}
	data, ok := c.Files["out.tar.gz"]
	if !ok || len(c.FileErrors) > 0 {
		t.Fatalf("files %v, errors %q", len(c.Files), c.FileErrors)
	}
	dir := t.TempDir()
	if err := untar(data, dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("%s: got %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestConsolePanic(t *testing.T) {
	text, err := os.ReadFile("testdata/console-panic-arm64.txt")
	if err != nil {
		t.Fatal(err)
	}
	c := feed(string(text))
	if !c.Booted || c.Done || len(c.Oops) == 0 {
		t.Fatalf("got booted %v done %v oops %q; want a booted guest that panicked", c.Booted, c.Done, c.Oops)
	}
	if !strings.Contains(c.Oops[0], "sysrq triggered crash") && !strings.Contains(c.Oops[0], "Internal error") && !strings.Contains(c.Oops[0], "Unable to handle kernel") {
		t.Errorf("first oops line %q, want the crash", c.Oops[0])
	}
	if len(c.Oops) > oopsLines {
		t.Errorf("kept %d oops lines, want at most %d", len(c.Oops), oopsLines)
	}
	r := &Row{Target: Target{Series: "6.1", Arch: arches[1]}, Accel: "TCG", Outcome: &Outcome{Console: c, Ending: Stopped}}
	if cell := r.BootCell(); !cell.Failed() || !strings.HasPrefix(cell.Text, "kernel oops: ") {
		t.Errorf("boot cell %+v, want a failure naming the oops", cell)
	}
}

func TestBootCellNoBoot(t *testing.T) {
	c := feed("SeaBIOS (version 1.16.2-debian-1.16.2-1)\nBooting from ROM...\n")
	r := &Row{Target: Target{Series: "6.12", Arch: arches[0]}, Accel: "KVM", Outcome: &Outcome{Console: c, Ending: NoBoot}}
	cell := r.BootCell()
	if !cell.Failed() || cell.Text != "did not boot (console tail below)" || !slices.Equal(cell.Detail, []string{"SeaBIOS (version 1.16.2-debian-1.16.2-1)", "Booting from ROM..."}) {
		t.Errorf("got %+v, want a failure with the console's tail", cell)
	}
	r.Outcome = &Outcome{Console: &Console{}, Ending: NoBoot}
	if cell := r.BootCell(); !cell.Failed() || cell.Text != "did not boot (the console stayed empty)" {
		t.Errorf("empty console: got %+v", cell)
	}
	if got := r.Cell("TestDoctor"); got.Failed() || got.Status != "—" {
		t.Errorf("a check of a guest that did not boot: got %+v, want not reached", got)
	}
}

// TestConsoleOopsInFile: a line of a file the guest sends back may spell
// "Oops" by chance (base64 did, failing the 6.12 arm64 guest's boot
// cell); only the kernel's own lines announce an oops, which may come in
// the middle of a file.
func TestConsoleOopsInFile(t *testing.T) {
	boot, err := os.ReadFile("testdata/console-6.12-amd64.txt")
	if err != nil {
		t.Fatal(err)
	}
	c := feed(string(boot) + "@@matrix file out.tar.gz\ndfR4Bc1WDeNHLBGuEuTXRQupkx0gGS9FRvZqDa5aE/3IwDYCx3ZckVaCv7fYxmTiOG3WLROopsOB\n@@matrix end\n@@matrix done\n")
	if c.Oops != nil {
		t.Errorf("a base64 line: got oops %q, want none", c.Oops)
	}
	oops := "[   40.512345] Internal error: Oops: 0000000096000004 [#1] SMP"
	c = feed(string(boot) + "@@matrix file out.tar.gz\nQUJD\n" + oops + "\nREVG\n@@matrix end\n@@matrix done\n")
	if len(c.Oops) == 0 || c.Oops[0] != oops {
		t.Errorf("a kernel oops amid a file: got %q, want it", c.Oops)
	}
}
