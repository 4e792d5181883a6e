package matrix

import (
	"bytes"
	"strconv"
	"testing"
)

// cpioEntry is one entry read back from a newc archive.
type cpioEntry struct {
	name         string
	mode         uint32
	rmajor       uint32
	rminor       uint32
	data         string
	ino, nlink   uint32
	headerOffset int
}

// readCPIO parses a newc archive the way the kernel's init/initramfs.c
// does: magic, 13 hex fields, the name padded to 4 bytes with its
// 110-byte header, the data padded to 4 bytes.
func readCPIO(t *testing.T, b []byte) []cpioEntry {
	t.Helper()
	var out []cpioEntry
	off := 0
	for {
		if off%4 != 0 {
			t.Fatalf("header at offset %d, not 4-byte aligned", off)
		}
		if len(b) < off+110 || string(b[off:off+6]) != "070701" {
			t.Fatalf("no newc header at offset %d", off)
		}
		field := func(i int) uint32 {
			v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("field %d at offset %d: %v", i, off, err)
			}
			return uint32(v)
		}
		e := cpioEntry{ino: field(0), mode: field(1), nlink: field(4), rmajor: field(9), rminor: field(10), headerOffset: off}
		size, namesize := int(field(6)), int(field(11))
		name := b[off+110 : off+110+namesize]
		if name[namesize-1] != 0 {
			t.Fatalf("name at offset %d has no NUL", off)
		}
		e.name = string(name[:namesize-1])
		off = align4(off + 110 + namesize)
		e.data = string(b[off : off+size])
		off = align4(off + size)
		if e.name == "TRAILER!!!" {
			if off != len(b) {
				t.Fatalf("%d bytes after the trailer", len(b)-off)
			}
			return out
		}
		out = append(out, e)
	}
}

func align4(n int) int { return (n + 3) &^ 3 }

func TestCPIO(t *testing.T) {
	var buf bytes.Buffer
	c := &cpioWriter{w: &buf}
	c.Dir("bin", 0o755)
	c.CharDev("dev/console", 0o600, 5, 1)
	c.File("init", 0o755, []byte("#!/bin/sh\n"))
	c.File("bin/x", 0o644, []byte("12345"))
	c.File("empty", 0o644, nil)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got := readCPIO(t, buf.Bytes())
	want := []cpioEntry{
		{name: "bin", mode: 0o40755, nlink: 2},
		{name: "dev/console", mode: 0o20600, rmajor: 5, rminor: 1, nlink: 1},
		{name: "init", mode: 0o100755, data: "#!/bin/sh\n", nlink: 1},
		{name: "bin/x", mode: 0o100644, data: "12345", nlink: 1},
		{name: "empty", mode: 0o100644, nlink: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.name != w.name || g.mode != w.mode || g.data != w.data || g.rmajor != w.rmajor || g.rminor != w.rminor || g.nlink != w.nlink || g.ino != uint32(i+1) {
			t.Errorf("entry %d: got %+v, want %+v with inode %d", i, g, w, i+1)
		}
	}
	// The first header, byte for byte: inode 1, a directory 0755, two links, a 4-byte name.
	if h := buf.String()[:110]; h != "070701"+"00000001"+"000041ed"+"00000000"+"00000000"+"00000002"+"00000000"+"00000000"+"00000000"+"00000000"+"00000000"+"00000000"+"00000004"+"00000000" {
		t.Errorf("first header %q", h)
	}
}
