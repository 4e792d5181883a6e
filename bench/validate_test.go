package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	cpus, err := OnlineCPUs()
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
	cpus, err := OnlineCPUs()
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
			"--mode fast: unknown mode (use one of write, write-huge, vmsplice, vmsplice-huge, splice, huge, busy)"},
		{"zero buffer", func(o *Options) { o.BufSizeBytes = 0 }, "--buf-size 0: must be positive (e.g. 256KiB)"},
		{"negative buffer", func(o *Options) { o.BufSizeBytes = -4096 }, "--buf-size -4096: must be positive (e.g. 256KiB)"},
		{"huge buffer", func(o *Options) { o.BufSizeBytes = 2 << 30 }, "--buf-size 2GiB: too large (use at most 1GiB)"},
		{"zero bytes", func(o *Options) { o.Bytes = 0 }, "--bytes 0: must be positive (e.g. 10GiB)"},
		{"vmsplice odd buffer", func(o *Options) { o.Mode = "vmsplice"; o.BufSizeBytes = 100000 },
			"--buf-size 100000: vmsplice's double buffer needs two halves of whole 4KiB pages (use a multiple of 8KiB, e.g. 256KiB)"},
		{"vmsplice one page", func(o *Options) { o.Mode = "splice"; o.BufSizeBytes = 4096 },
			"--buf-size 4KiB: vmsplice's double buffer needs two halves of whole 4KiB pages (use a multiple of 8KiB, e.g. 256KiB)"},
		{"vmsplice big buffer", func(o *Options) { o.Mode = "huge"; o.BufSizeBytes = 4 << 20 },
			"--buf-size 4MiB: vmsplice's double buffer needs a pipe of half the buffer (2MiB), above /proc/sys/fs/pipe-max-size (1MiB) (raise it with sysctl fs.pipe-max-size=2097152)"},
		{"pipe too big", func(o *Options) { o.PipeSizeBytes = 4 << 20 },
			"--pipe-size 4MiB: above /proc/sys/fs/pipe-max-size (1MiB) (raise it with sysctl fs.pipe-max-size=4194304)"},
		{"pipe too small", func(o *Options) { o.PipeSizeBytes = 1000 },
			"--pipe-size 1000: pipe size below the page size (4KiB) (use at least 4KiB)"},
		{"pipe negative", func(o *Options) { o.PipeSizeBytes = -1 }, "--pipe-size -1: must be positive (e.g. 1MiB, or leave it out)"},
		{"pin missing CPU", func(o *Options) { o.PinReader = 7 },
			"--pin 0,7: CPU 7 is not available to this process (use CPUs from 0,1)"},
		{"pin negative", func(o *Options) { o.PinWriter = -3 },
			"--pin -3,1: CPU numbers must be 0 or more (give W,R such as 0,1, or -1 to leave a role unpinned)"},
		{"offset beyond a page", func(o *Options) { o.Mode = "huge"; o.BufOffset = pageSize },
			fmt.Sprintf("--buf-offset %d: must be 0 to %d bytes past a page boundary (e.g. 0 for page-aligned buffers; leave it out for where the post's programs put them)", pageSize, pageSize-1)},
		{"offset negative", func(o *Options) { o.BufOffset = -2 },
			fmt.Sprintf("--buf-offset -2: must be 0 to %d bytes past a page boundary (e.g. 0 for page-aligned buffers; leave it out for where the post's programs put them)", pageSize-1)},
		{"repeat zero", func(o *Options) { o.Repeat = 0 }, "--repeat 0: must be at least 1 (e.g. 5)"},
		{"timeout negative", func(o *Options) { o.Timeout = -time.Second }, "--timeout -1s: must not be negative (e.g. 10s, or 0 for none)"},
		{"check-huge without huge", func(o *Options) { o.CheckHuge = true },
			"--check-huge: needs a huge-page buffer (add --huge or use a -huge mode)"},
		{"check-huge untouched", func(o *Options) { o.Mode = "huge"; o.CheckHuge = true; o.DontTouchPages = true },
			"--check-huge: cannot check pages that --dont-touch-pages leaves unfaulted (drop one of the two)"},
		{"busy and poll", func(o *Options) { o.Mode = "busy"; o.Poll = true },
			"--poll: contradicts busy looping (--busy or mode busy) (drop --poll or --busy)"},
		{"gift on write", func(o *Options) { o.Gift = true },
			"--gift: needs a vmsplice writer or a splice reader (use mode vmsplice, splice, huge or busy)"},
		{"same buffer on write", func(o *Options) { o.Mode = "write-huge"; o.SameBuffer = true },
			"--same-buffer: needs a vmsplice writer (use mode vmsplice, splice, huge or busy)"},
		{"verify splice", func(o *Options) { o.Mode = "splice"; o.Verify = true },
			"--verify: needs a read(2) reader that sees the bytes (use mode write, write-huge, vmsplice or vmsplice-huge)"},
		{"verify untouched", func(o *Options) { o.Verify = true; o.DontTouchPages = true },
			"--dont-touch-pages: contradicts --verify, which writes every page (drop one of the two)"},
		{"verify same buffer", func(o *Options) { o.Mode = "vmsplice"; o.Verify = true; o.SameBuffer = true },
			"--same-buffer: contradicts --verify, which needs each block's own content (drop one of the two)"},
		{"rewrite without verify", func(o *Options) { o.Mode = "vmsplice"; o.RewriteAfterSplice = true },
			"--rewrite-after-splice: needs --verify and a vmsplice writer (add --verify and use mode vmsplice or vmsplice-huge)"},
		{"rewrite with gift", func(o *Options) { o.Mode = "vmsplice"; o.Verify = true; o.RewriteAfterSplice = true; o.Gift = true },
			"--rewrite-after-splice: tests reuse without SPLICE_F_GIFT (drop --gift)"},
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
		{func(o *Options) { o.Huge = true }, "--huge: transparent huge pages are off (" + path + " is never) (echo madvise > " + path + ")"},
		{func(o *Options) { o.Mode = "huge"; o.CheckHuge = true }, "--check-huge: transparent huge pages are off (" + path + " is never) (echo madvise > " + path + ")"},
		{func(o *Options) { o.Mode = "busy" }, "--mode busy: transparent huge pages are off (" + path + " is never) (echo madvise > " + path + ")"},
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
