package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRunRejectsBadOptions: Run validates before it starts anything, so
// bad input never leaves a child or a half result.
func TestRunRejectsBadOptions(t *testing.T) {
	cpus, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	max, err := PipeMaxSize()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(*Options)
		want string // the start of the message; the rest depends on the machine
	}{
		{"negative bytes", func(o *Options) { o.Bytes = -1 }, "Bytes -1: must be positive (e.g. 10GiB)"},
		{"writer on a CPU that does not exist", func(o *Options) { o.PinWriter, o.PinReader = 99999, cpus[0] },
			"PinWriter,PinReader 99999," + itoa(cpus[0]) + ": CPU 99999 is not available to this process (use CPUs from "},
		{"reader on the CPU after the last", func(o *Options) { o.PinWriter, o.PinReader = -1, cpus[len(cpus)-1]+1 },
			"PinWriter,PinReader -1," + itoa(cpus[len(cpus)-1]+1) + ": CPU " + itoa(cpus[len(cpus)-1]+1) + " is not available to this process (use CPUs from "},
		{"pipe above pipe-max-size", func(o *Options) { o.PipeSizeBytes = 2 * max },
			"PipeSizeBytes " + FormatSize(int64(2*max)) + ": above /proc/sys/fs/pipe-max-size (" + FormatSize(int64(max)) + ") (raise it with sysctl fs.pipe-max-size=" + itoa(2*max) + ")"},
		{"vmsplice buffer of half pages", func(o *Options) { o.Mode = "vmsplice-huge"; o.BufSizeBytes = 3 * pageSize },
			"BufSizeBytes " + FormatSize(int64(3*pageSize)) + ": vmsplice's double buffer needs two halves of whole "},
		{"vmsplice buffer of 3-page halves", func(o *Options) { o.Mode = "splice"; o.BufSizeBytes = 6 * pageSize },
			"BufSizeBytes " + FormatSize(int64(6*pageSize)) + ": vmsplice's double buffer needs a pipe of exactly half the buffer, and the kernel rounds " +
				FormatSize(int64(3*pageSize)) + " up to a power of two pages, so the writer would rewrite pages still in the pipe (use a power of two, e.g. 256KiB)"},
		{"vmsplice buffer of 48-page halves", func(o *Options) { o.Mode = "vmsplice"; o.BufSizeBytes = 96 * pageSize },
			"BufSizeBytes " + FormatSize(int64(96*pageSize)) + ": vmsplice's double buffer needs a pipe of exactly half the buffer, and the kernel rounds " +
				FormatSize(int64(48*pageSize)) + " up to a power of two pages, so the writer would rewrite pages still in the pipe (use a power of two, e.g. 256KiB)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := one("write")
			c.edit(&o)
			res, err := Run(context.Background(), o, &observer{attach: func(int, int) error {
				t.Errorf("a child started for bad options")
				return nil
			}}, nil)
			noChildren(t)
			var oe *OptionError
			if !errors.As(err, &oe) || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("Run error:\n got %v\nwant an *OptionError starting %q", err, c.want)
			}
			if res != nil {
				t.Errorf("Run returned a result %+v for bad options", res)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestValidateTHPMissing: a kernel without transparent huge pages (no
// sysfs file) gets a clear line for every way of asking for huge pages.
func TestValidateTHPMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "enabled")
	old := thpEnabledPath
	thpEnabledPath = path
	t.Cleanup(func() { thpEnabledPath = old })
	wantTail := ": read thp mode: open " + path + ": no such file or directory (transparent huge pages need CONFIG_TRANSPARENT_HUGEPAGE) (use a mode without huge pages)"
	for _, c := range []struct {
		edit func(*Options)
		flag string
	}{
		{func(o *Options) { o.Huge = true }, "Huge"},
		{func(o *Options) { o.Mode = "write-huge"; o.CheckHuge = true }, "CheckHuge"},
		{func(o *Options) { o.Mode = "huge" }, "Mode huge"},
	} {
		o := one("write")
		c.edit(&o)
		if err := o.Validate(); err == nil || err.Error() != c.flag+wantTail {
			t.Errorf("Validate() = %v\nwant %q", err, c.flag+wantTail)
		}
	}
	if err := os.WriteFile(path, []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := one("busy")
	want := "Mode busy: parse " + path + ": no [selected] mode in \"garbage\" (use a mode without huge pages)"
	if err := o.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %q", err, want)
	}
}

// TestSizePipeRefused: when the kernel refuses F_SETPIPE_SZ (here a size
// above its 2GiB limit; for a user without CAP_SYS_RESOURCE, anything
// above pipe-max-size or the per-user pipe pages), the run stops with the
// errno and where to look.
func TestSizePipeRefused(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	r := &runner{p: plan{PipeSizeBytes: 3 << 30}}
	err := r.sizePipe(p[1])
	want := "fcntl F_SETPIPE_SZ 3GiB: invalid argument (check /proc/sys/fs/pipe-max-size and fs.pipe-user-pages-soft)"
	if err == nil || err.Error() != want || !errors.Is(err, unix.EINVAL) {
		t.Errorf("sizePipe(3GiB) = %v, want %q wrapping EINVAL", err, want)
	}
}

// TestCheckHugeRefuses shows --check-huge can fail: an ordinary touched
// buffer is present but not a huge page, an untouched one is not present.
func TestCheckHugeRefuses(t *testing.T) {
	mustHaveHugePages(t) // the same pagemap and kpageflags access
	buf, err := pageBuffer(64<<10, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(buf.mapping)
	// Keep THP away from this small mapping whatever the system mode.
	if err := unix.Madvise(buf.data, unix.MADV_NOHUGEPAGE); err != nil {
		t.Fatal(err)
	}
	err = checkHuge(buf.data)
	want := "check huge page at buffer offset 0: page not present (it was never touched)"
	if err == nil || err.Error() != want {
		t.Errorf("untouched: checkHuge = %v, want %q", err, want)
	}
	fill(buf.data, 'X')
	err = checkHuge(buf.data)
	want = "check huge page at buffer offset 0: not a transparent huge page (kpageflags "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("small pages: checkHuge = %v, want it to start %q", err, want)
	}
}
