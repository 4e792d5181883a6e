package matrix

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// marker starts every line the guest's init script prints for the host.
const marker = "@@matrix "

// Guest is what goes into a guest's initramfs: static binaries for its
// architecture and the size of its transfers.
type Guest struct {
	// Busybox, Pipelab and E2E are paths of static binaries on the host:
	// busybox (sh, cat, dd, tar, base64, ...), pipelab, and the e2e
	// package's test binary.
	Busybox, Pipelab, E2E string
	// Bytes is the e2e checks' transfer size (PIPELAB_E2E_BYTES).
	Bytes string
	// TestTimeout bounds the test binary (-test.timeout), below the host's
	// own deadline for the guest, so a hung check ends in a Go panic the
	// console shows.
	TestTimeout string
}

// initScript is the guest's /init: mount what pipelab reads, run the
// checks with -test.v, then send their files as a base64 tar.gz framed by
// marker lines, and power off. dmesg -n 1 keeps kernel messages from
// cutting into the framed lines; an oops or a panic still prints.
const initScript = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin HOME=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || echo "{{M}}note tracefs could not be mounted"
echo "{{M}}booted $(uname -r) $(uname -m)"
dmesg -n 1
mkdir -p /tmp/out /tmp/work
cd /tmp/work
PIPELAB_BIN=/bin/pipelab PIPELAB_E2E_OUT=/tmp/out PIPELAB_E2E_BYTES={{BYTES}} /bin/e2e.test -test.v -test.timeout {{TIMEOUT}} </dev/null 2>&1
echo "{{M}}tests-exit $?"
echo "{{M}}file out.tar.gz"
tar -C /tmp/out -czf - . | base64
echo "{{M}}end"
echo "{{M}}done"
poweroff -f
`

// script returns the init script for g.
func (g Guest) script() string {
	r := strings.NewReplacer("{{M}}", marker, "{{BYTES}}", g.Bytes, "{{TIMEOUT}}", g.TestTimeout)
	return r.Replace(initScript)
}

// WriteInitramfs writes g's initramfs, an uncompressed newc cpio archive,
// to w.
func (g Guest) WriteInitramfs(w io.Writer) error {
	c := &cpioWriter{w: w}
	for _, d := range []string{"bin", "dev", "proc", "sys", "tmp"} {
		c.Dir(d, 0o755)
	}
	c.CharDev("dev/console", 0o600, 5, 1)
	c.File("init", 0o755, []byte(g.script()))
	for _, f := range []struct{ name, path string }{{"bin/busybox", g.Busybox}, {"bin/pipelab", g.Pipelab}, {"bin/e2e.test", g.E2E}} {
		data, err := os.ReadFile(f.path)
		if err != nil {
			return fmt.Errorf("initramfs: %w", err)
		}
		c.File(f.name, 0o755, data)
	}
	return c.Close()
}
