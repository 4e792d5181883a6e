package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultOptionsValid(t *testing.T) {
	o := DefaultOptions()
	if err := o.Validate(); err != nil {
		t.Fatalf("DefaultOptions().Validate() = %v, want nil", err)
	}
	want := Options{Mode: "write", BufSizeBytes: 256 << 10, Bytes: 10 << 30, PinWriter: o.PinWriter, PinReader: o.PinReader, Repeat: 5, BufOffset: MallocOffset}
	if o != want {
		t.Errorf("DefaultOptions() = %+v, want %+v", o, want)
	}
	cpus, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) >= 2 && cpus[0] == 0 && cpus[1] == 1 && (o.PinWriter != 0 || o.PinReader != 1) {
		t.Errorf("got pins %d,%d on CPUs %v, want 0,1", o.PinWriter, o.PinReader, cpus)
	}
}

// These messages depend on this machine: 4KiB pages, pipe-max-size 1MiB,
// CPUs 0 and 1; the test skips cases whose premise fails.
func TestValidate(t *testing.T) {
	if pageSize != 4096 {
		t.Skipf("messages assume 4KiB pages, have %d", pageSize)
	}
	max, err := PipeMaxSize()
	if err != nil || max != 1<<20 {
		t.Skipf("messages assume pipe-max-size 1MiB, have %d (%v)", max, err)
	}
	cpus, err := AllowedCPUs()
	if err != nil || len(cpus) != 2 {
		t.Skipf("messages assume CPUs 0,1, have %v (%v)", cpus, err)
	}
	base := DefaultOptions()
	base.PinWriter, base.PinReader = 0, 1
	cases := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"unknown mode", func(o *Options) { o.Mode = "fast" },
			"Mode fast: unknown mode (use one of write, write-huge, vmsplice, vmsplice-huge, splice, huge, busy, socket, ring, ring-busy, copy, copy-dram)"},
		{"zero buffer", func(o *Options) { o.BufSizeBytes = 0 }, "BufSizeBytes 0: must be positive (e.g. 256KiB)"},
		{"negative buffer", func(o *Options) { o.BufSizeBytes = -4096 }, "BufSizeBytes -4096: must be positive (e.g. 256KiB)"},
		{"huge buffer", func(o *Options) { o.BufSizeBytes = 2 << 30 }, "BufSizeBytes 2GiB: too large (use at most 1GiB)"},
		{"zero bytes", func(o *Options) { o.Bytes = 0 }, "Bytes 0: must be positive (e.g. 10GiB)"},
		{"vmsplice odd buffer", func(o *Options) { o.Mode = "vmsplice"; o.BufSizeBytes = 100000 },
			"BufSizeBytes 100000: vmsplice's double buffer needs two halves of whole 4KiB pages (use a multiple of 8KiB, e.g. 256KiB)"},
		{"vmsplice one page", func(o *Options) { o.Mode = "splice"; o.BufSizeBytes = 4096 },
			"BufSizeBytes 4KiB: vmsplice's double buffer needs two halves of whole 4KiB pages (use a multiple of 8KiB, e.g. 256KiB)"},
		{"vmsplice big buffer", func(o *Options) { o.Mode = "huge"; o.BufSizeBytes = 4 << 20 },
			"BufSizeBytes 4MiB: vmsplice's double buffer needs a pipe of half the buffer (2MiB), above /proc/sys/fs/pipe-max-size (1MiB) (raise it with sysctl fs.pipe-max-size=2097152)"},
		{"pipe too big", func(o *Options) { o.PipeSizeBytes = 4 << 20 },
			"PipeSizeBytes 4MiB: above /proc/sys/fs/pipe-max-size (1MiB) (raise it with sysctl fs.pipe-max-size=4194304)"},
		{"pipe too small", func(o *Options) { o.PipeSizeBytes = 1000 },
			"PipeSizeBytes 1000: pipe size below the page size (4KiB) (use at least 4KiB)"},
		{"pipe negative", func(o *Options) { o.PipeSizeBytes = -1 }, "PipeSizeBytes -1: must be positive (e.g. 1MiB, or leave it out)"},
		{"pin missing CPU", func(o *Options) { o.PinReader = 7 },
			"PinWriter,PinReader 0,7: CPU 7 is not available to this process (use CPUs from 0,1)"},
		{"pin negative", func(o *Options) { o.PinWriter = -3 },
			"PinWriter,PinReader -3,1: CPU numbers must be 0 or more (give W,R such as 0,1, or -1 to leave a role unpinned)"},
		{"offset beyond a page", func(o *Options) { o.Mode = "huge"; o.BufOffset = pageSize },
			fmt.Sprintf("BufOffset %d: must be 0 to %d bytes past a page boundary (e.g. 0 for page-aligned buffers; leave it out for where the post's programs put them)", pageSize, pageSize-1)},
		{"offset negative", func(o *Options) { o.BufOffset = -2 },
			fmt.Sprintf("BufOffset -2: must be 0 to %d bytes past a page boundary (e.g. 0 for page-aligned buffers; leave it out for where the post's programs put them)", pageSize-1)},
		{"repeat zero", func(o *Options) { o.Repeat = 0 }, "Repeat 0: must be at least 1 (e.g. 5)"},
		{"timeout negative", func(o *Options) { o.Timeout = -time.Second }, "Timeout -1s: must not be negative (e.g. 10s, or 0 for none)"},
		{"check-huge without huge", func(o *Options) { o.CheckHuge = true },
			"CheckHuge: needs a huge-page buffer (add Huge or use a -huge mode)"},
		{"check-huge untouched", func(o *Options) { o.Mode = "huge"; o.CheckHuge = true; o.DontTouchPages = true },
			"CheckHuge: cannot check pages that DontTouchPages leaves unfaulted (drop one of the two)"},
		{"busy and poll", func(o *Options) { o.Mode = "busy"; o.Poll = true },
			"Poll: contradicts busy looping (Busy or mode busy) (drop Poll or Busy)"},
		{"gift on write", func(o *Options) { o.Gift = true },
			"Gift: needs a vmsplice writer or a splice reader (use mode vmsplice, splice, huge or busy)"},
		{"same buffer on write", func(o *Options) { o.Mode = "write-huge"; o.SameBuffer = true },
			"SameBuffer: needs a vmsplice writer (use mode vmsplice, splice, huge or busy)"},
		{"verify splice", func(o *Options) { o.Mode = "splice"; o.Verify = true },
			"Verify: needs a reader that takes the bytes into its memory, and a splice reader passes them to /dev/null unseen (add Consume, which makes it read them, or use a mode with a read(2) or copying reader)"},
		{"verify untouched", func(o *Options) { o.Verify = true; o.DontTouchPages = true },
			"DontTouchPages: contradicts Verify, which writes every page (drop one of the two)"},
		{"verify same buffer", func(o *Options) { o.Mode = "vmsplice"; o.Verify = true; o.SameBuffer = true },
			"SameBuffer: contradicts Verify, which needs each block's own content (drop one of the two)"},
		{"rewrite without verify", func(o *Options) { o.Mode = "vmsplice"; o.RewriteAfterSplice = true },
			"RewriteAfterSplice: needs Verify and a vmsplice writer (add Verify and use mode vmsplice or vmsplice-huge)"},
		{"rewrite with gift", func(o *Options) { o.Mode = "vmsplice"; o.Verify = true; o.RewriteAfterSplice = true; o.Gift = true },
			"RewriteAfterSplice: tests reuse without SPLICE_F_GIFT (drop Gift)"},
		{"ring size not a power of two", func(o *Options) { o.Mode = "ring"; o.RingSizeBytes = 768 << 10 },
			"RingSizeBytes 768KiB: must be a power of two (the ring's indices wrap with a mask) (e.g. 512KiB, the least that holds two 256KiB buffers)"},
		{"ring size negative", func(o *Options) { o.Mode = "ring-busy"; o.RingSizeBytes = -1 },
			"RingSizeBytes -1: must be a power of two (the ring's indices wrap with a mask) (e.g. 512KiB, the least that holds two 256KiB buffers)"},
		{"ring smaller than two buffers", func(o *Options) { o.Mode = "ring"; o.RingSizeBytes = 256 << 10 },
			"RingSizeBytes 256KiB: must hold two buffers of BufSizeBytes 256KiB, at least 512KiB (the writer fills one while the reader empties the other) (use 512KiB or more, or a smaller buffer)"},
		{"ring smaller than two odd buffers", func(o *Options) { o.Mode = "ring"; o.BufSizeBytes = 300 << 10; o.RingSizeBytes = 512 << 10 },
			"RingSizeBytes 512KiB: must hold two buffers of BufSizeBytes 300KiB, at least 600KiB (the writer fills one while the reader empties the other) (use 1MiB or more, or a smaller buffer)"},
		{"ring too large", func(o *Options) { o.Mode = "ring"; o.RingSizeBytes = 2 << 30 },
			"RingSizeBytes 2GiB: too large (use at most 1GiB)"},
		{"buffer too large for a ring", func(o *Options) { o.Mode = "ring-busy"; o.BufSizeBytes = 768 << 20 },
			"BufSizeBytes 768MiB: the ring holds two buffers, and at most 1GiB (use at most 512MiB)"},
		{"ring size on a pipe", func(o *Options) { o.Mode = "busy"; o.RingSizeBytes = 1 << 20 },
			"RingSizeBytes 1MiB: sizes the shared-memory ring, and mode busy has none (drop it, or use mode ring or ring-busy)"},
		{"streaming on a socket", func(o *Options) { o.Mode = "socket"; o.Streaming = true },
			"Streaming: is how the ring's writer stores into the ring, and mode socket has none (drop it, or use mode ring or ring-busy)"},
		{"pipe size on a ring", func(o *Options) { o.Mode = "ring"; o.PipeSizeBytes = 1 << 20 },
			"PipeSizeBytes 1MiB: sizes a pipe, and mode ring has none (a shared-memory ring (memfd), both ends sleeping on a futex when it is full or empty) (drop it, or use a pipe mode: write, write-huge, vmsplice, vmsplice-huge, splice, huge, busy)"},
		{"poll on a ring", func(o *Options) { o.Mode = "ring"; o.Poll = true },
			"Poll: polls a file descriptor, and mode ring has none to poll (a shared-memory ring (memfd), both ends sleeping on a futex when it is full or empty) (drop it)"},
		{"busy copy", func(o *Options) { o.Mode = "copy"; o.Busy = true },
			"Busy: spins while the other side is not ready, and in mode copy the reader never waits (one core's memory copy of a buffer in cache: no transport at all) (drop it)"},
		{"writer command on a socket", func(o *Options) { o.Mode = "socket"; o.WriterCmd = "cat /dev/zero" },
			"WriterCmd: puts a command on one end of a pipe, and mode socket has none (write(2) into an AF_UNIX stream socketpair, read(2) out of it) (use a pipe mode: write, write-huge, vmsplice, vmsplice-huge, splice, huge, busy)"},
		{"consume with a reader command", func(o *Options) { o.Consume = true; o.ReaderCmd = "cat >/dev/null" },
			"Consume: makes pipelab's reader use every byte, and ReaderCmd replaces it (drop one of the two)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := base
			c.edit(&o)
			err := o.Validate()
			var oe *OptionError
			if !errors.As(err, &oe) {
				t.Fatalf("Validate() = %v, want an *OptionError", err)
			}
			if err.Error() != c.want {
				t.Errorf("Validate():\n got %q\nwant %q", err, c.want)
			}
		})
	}
}

func TestValidateTHPNever(t *testing.T) {
	path := filepath.Join(t.TempDir(), "enabled")
	if err := os.WriteFile(path, []byte("always madvise [never]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := thpEnabledPath
	thpEnabledPath = path
	t.Cleanup(func() { thpEnabledPath = old })
	cases := []struct {
		edit func(*Options)
		want string
	}{
		{func(o *Options) { o.Huge = true }, "Huge: transparent huge pages are off (" + path + " is never) (echo madvise > " + path + ")"},
		{func(o *Options) { o.Mode = "huge"; o.CheckHuge = true }, "CheckHuge: transparent huge pages are off (" + path + " is never) (echo madvise > " + path + ")"},
		{func(o *Options) { o.Mode = "busy" }, "Mode busy: transparent huge pages are off (" + path + " is never) (echo madvise > " + path + ")"},
	}
	for _, c := range cases {
		o := DefaultOptions()
		c.edit(&o)
		if err := o.Validate(); err == nil || err.Error() != c.want {
			t.Errorf("Validate() = %v, want %q", err, c.want)
		}
	}
	o := DefaultOptions()
	if err := o.Validate(); err != nil {
		t.Errorf("write mode with THP never: Validate() = %v, want nil", err)
	}
}

func TestParseTHPMode(t *testing.T) {
	for in, want := range map[string]string{
		"always [madvise] never\n": "madvise", "[always] madvise never": "always", "always madvise [never]": "never",
	} {
		if got, err := parseTHPMode(in); err != nil || got != want {
			t.Errorf("parseTHPMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := parseTHPMode("always madvise never"); err == nil {
		t.Errorf("parseTHPMode without brackets: got nil error")
	}
}

func TestEffectiveKnobs(t *testing.T) {
	for _, c := range []struct {
		mode       string
		huge, busy bool
		offset     int // the default BufOffset as run
	}{{"write", false, false, 16}, {"vmsplice", false, false, 16}, {"write-huge", true, false, 0},
		{"vmsplice-huge", true, false, 0}, {"huge", true, false, 0}, {"busy", true, true, 0}} {
		o := DefaultOptions()
		o.Mode = c.mode
		if e := o.Effective(); e.Huge != c.huge || e.Busy != c.busy || e.BufOffset != c.offset {
			t.Errorf("%s: huge %v busy %v offset %d, want %v %v %d", c.mode, e.Huge, e.Busy, e.BufOffset, c.huge, c.busy, c.offset)
		}
	}
	o := DefaultOptions()
	o.BufOffset = 0
	if e := o.Effective(); e.BufOffset != 0 {
		t.Errorf("--buf-offset 0 runs with offset %d", e.BufOffset)
	}
}

// TestOptionErrorsNameFields: bench's option errors spell no flag of the
// command line; the fields they name, at fault or as {Field} in the text,
// are fields of Options (or, for CheckWatch, Watch's parameters), which
// cmd/pipelab maps to its flags.
func TestOptionErrorsNameFields(t *testing.T) {
	w, r := "head -c 1M /dev/zero", "wc -c"
	edits := []func(o *Options){
		func(o *Options) { o.Mode = "fast" },
		func(o *Options) { o.BufSizeBytes = 0 },
		func(o *Options) { o.BufSizeBytes = 2 << 30 },
		func(o *Options) { o.Bytes = 0 },
		func(o *Options) { o.Mode = "vmsplice"; o.BufSizeBytes = 100000 },
		func(o *Options) { o.Mode = "splice"; o.BufSizeBytes = 6 * pageSize },
		func(o *Options) { o.Mode = "huge"; o.BufSizeBytes = 64 << 20 },
		func(o *Options) { o.PipeSizeBytes = 64 << 20 },
		func(o *Options) { o.PipeSizeBytes = 1000 },
		func(o *Options) { o.PipeSizeBytes = -1 },
		func(o *Options) { o.PinReader = 1 << 20 },
		func(o *Options) { o.PinWriter = -3 },
		func(o *Options) { o.Mode = "huge"; o.BufOffset = pageSize },
		func(o *Options) { o.Repeat = 0 },
		func(o *Options) { o.Timeout = -time.Second },
		func(o *Options) { o.CheckHuge = true },
		func(o *Options) { o.Mode = "huge"; o.CheckHuge = true; o.DontTouchPages = true },
		func(o *Options) { o.Mode = "busy"; o.Poll = true },
		func(o *Options) { o.Gift = true },
		func(o *Options) { o.Mode = "write-huge"; o.SameBuffer = true },
		func(o *Options) { o.Mode = "splice"; o.Verify = true },
		func(o *Options) { o.Verify = true; o.DontTouchPages = true },
		func(o *Options) { o.Mode = "vmsplice"; o.Verify = true; o.SameBuffer = true },
		func(o *Options) { o.Mode = "vmsplice"; o.RewriteAfterSplice = true },
		func(o *Options) { o.Mode = "vmsplice"; o.Verify = true; o.RewriteAfterSplice = true; o.Gift = true },
		func(o *Options) { o.WriterCmd = " " },
		func(o *Options) { o.ReaderCmd = " " },
		func(o *Options) { o.WriterCmd = w; o.Verify = true },
		func(o *Options) { o.ReaderCmd = r; o.Verify = true },
		func(o *Options) { o.WriterCmd, o.ReaderCmd = w, r; o.Verify = true },
		func(o *Options) { o.Mode = "vmsplice"; o.WriterCmd = w; o.RewriteAfterSplice = true },
		func(o *Options) { o.Mode = "vmsplice"; o.WriterCmd = w; o.SameBuffer = true },
		func(o *Options) { o.Mode = "vmsplice"; o.WriterCmd = w; o.Gift = true },
		func(o *Options) { o.WriterCmd, o.ReaderCmd = w, r; o.Timeout = time.Second },
		func(o *Options) { o.Mode = "splice"; o.WriterCmd = w; o.Huge = true },
		func(o *Options) { o.WriterCmd, o.ReaderCmd = w, r; o.LockMemory = true },
		func(o *Options) { o.Mode = "splice"; o.WriterCmd = w; o.DontTouchPages = true },
		func(o *Options) { o.WriterCmd, o.ReaderCmd = w, r; o.BufOffset = 0 },
		func(o *Options) { o.WriterCmd, o.ReaderCmd = w, r; o.Busy = true },
		func(o *Options) { o.WriterCmd, o.ReaderCmd = w, r; o.Poll = true },
		func(o *Options) { o.Mode = "ring"; o.RingSizeBytes = 3 << 20 },
		func(o *Options) { o.Mode = "ring"; o.RingSizeBytes = 128 << 10 },
		func(o *Options) { o.Mode = "ring"; o.RingSizeBytes = 2 << 30 },
		func(o *Options) { o.Mode = "ring"; o.BufSizeBytes = 1 << 30 },
		func(o *Options) { o.RingSizeBytes = 1 << 20 },
		func(o *Options) { o.Streaming = true },
		func(o *Options) { o.Mode = "ring"; o.PipeSizeBytes = 1 << 20 },
		func(o *Options) { o.Mode = "copy"; o.Poll = true },
		func(o *Options) { o.Mode = "copy-dram"; o.Busy = true },
		func(o *Options) { o.Mode = "ring"; o.ReaderCmd = r },
		func(o *Options) { o.Consume = true; o.ReaderCmd = r },
	}
	var errs []error
	for _, edit := range edits {
		o := DefaultOptions()
		edit(&o)
		errs = append(errs, o.Validate())
	}
	for _, pids := range [][2]int{{os.Getpid(), os.Getpid()}, {-1, os.Getpid()}, {os.Getpid(), 1 << 30}} {
		errs = append(errs, CheckWatch(pids[0], pids[1], time.Second))
	}
	errs = append(errs, CheckWatch(os.Getpid(), os.Getppid(), 0))
	options := reflect.TypeOf(Options{})
	named := func(field string) bool {
		_, ok := options.FieldByName(field)
		return ok || field == "Writer" || field == "Reader" || field == "Duration"
	}
	for i, err := range errs {
		var oe *OptionError
		if !errors.As(err, &oe) {
			t.Errorf("case %d: got %v, want an *OptionError", i, err)
			continue
		}
		if strings.Contains(err.Error(), "--") {
			t.Errorf("case %d: %q spells a flag", i, err)
		}
		var fields []string
		oe.Format(func(field string) string {
			fields = append(fields, field)
			return field
		})
		for _, f := range fields {
			if !named(f) {
				t.Errorf("case %d: %q names %q, which is no field of Options", i, err, f)
			}
		}
	}
}

// TestSupported gives Supported a kernel whose transparent huge pages are
// on, off and missing: a huge-page plan is unsupported, with what is
// missing and the remedy, when they are off or missing; a plan without
// huge pages always runs.
func TestSupported(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	on, off, missing := write("on", "always [madvise] never\n"), write("off", "always madvise [never]\n"), filepath.Join(dir, "missing")
	for _, tt := range []struct {
		thp, mode string
		huge      bool
		want      string
	}{
		{on, "huge", false, ""},
		{off, "huge", false, "needs transparent huge pages, which are off: " + off + " is never (echo madvise > " + off + ")"},
		{off, "busy", false, "needs transparent huge pages, which are off: " + off + " is never (echo madvise > " + off + ")"},
		{off, "write", true, "needs transparent huge pages, which are off: " + off + " is never (echo madvise > " + off + ")"},
		{off, "splice", false, ""},
		{missing, "vmsplice-huge", false, "needs transparent huge pages, which this kernel lacks (no " + missing + ") (a kernel built with CONFIG_TRANSPARENT_HUGEPAGE=y)"},
		{missing, "write", false, ""},
	} {
		restore := THPEnabledAt(tt.thp)
		o := DefaultOptions()
		o.Mode, o.Huge = tt.mode, tt.huge
		err := Supported(o)
		restore()
		var ue *UnsupportedError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s (huge %v) with %s: %v, want supported", tt.mode, tt.huge, filepath.Base(tt.thp), err)
		case tt.want != "" && (!errors.As(err, &ue) || err.Error() != tt.want):
			t.Errorf("%s (huge %v) with %s: got %v, want %q", tt.mode, tt.huge, filepath.Base(tt.thp), err, tt.want)
		}
	}
}
