package bench

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// wantChecksum is the checksum a consuming reader of o must report: the
// sum of the --verify pattern over o.Bytes, which in the copy modes
// repeats every sourceSize bytes (the reader copies the one source
// again and again).
func wantChecksum(o Options) uint64 {
	p := planFor(o)
	period := o.Bytes
	if p.Transport == memoryTransport {
		period = int64(sourceSize(p, o.BufSizeBytes))
	}
	buf := make([]byte, 1<<20)
	var sum uint64
	for off := int64(0); off < o.Bytes; {
		n := min(int64(len(buf)), o.Bytes-off, period-off%period)
		stamp(buf[:n], off%period)
		sum = checksum(buf[:n], off, sum)
		off += n
	}
	return sum
}

// TestConsumeVerifyEveryMode: every mode's reader, made to consume, gets
// exactly the bytes the writer wrote (--verify checks each) and sums all
// of them: its checksum is the pattern's. The splice modes' readers take
// the bytes with read(2) to do so (and with vmsplice(2), the way
// BenchmarkConsumeVia measures against it); the ring modes run with
// either kind of store.
func TestConsumeVerifyEveryMode(t *testing.T) {
	type variant struct {
		mode, via string
		streaming bool
	}
	var variants []variant
	for _, m := range Modes() {
		variants = append(variants, variant{m.Name, "", false})
		switch {
		case m.Transport == ringTransport:
			variants = append(variants, variant{m.Name, "", true})
		case m.Reader == "splice":
			variants = append(variants, variant{m.Name, "vmsplice", false})
		}
	}
	for _, v := range variants {
		name := v.mode
		if v.streaming {
			name += "/streaming"
		}
		if v.via != "" {
			name += "/via-" + v.via
		}
		t.Run(name, func(t *testing.T) {
			if v.via != "" {
				t.Setenv(envConsumeVia, v.via)
				if got := planFor(Options{Mode: v.mode, Consume: true}).Reader; got != vmspliceIn {
					t.Fatalf("%s=%s: the reader is %s, want %s", envConsumeVia, v.via, got, vmspliceIn)
				}
			}
			if planFor(Options{Mode: v.mode}).Huge {
				mustHaveHugePages(t)
			}
			o := one(v.mode)
			o.Bytes = 16<<20 + 12345 // not a whole number of buffers, nor of words
			o.Verify, o.Consume, o.Streaming = true, true, v.streaming
			r := runOne(t, o)
			if !r.Verified || r.FirstCorruptOffset != -1 {
				t.Errorf("Verified %v, first corrupt offset %d; want true, -1", r.Verified, r.FirstCorruptOffset)
			}
			if !r.Reader.Consumed {
				t.Errorf("reader did not report consuming")
			}
			if want := wantChecksum(o); r.Reader.Checksum != want {
				t.Errorf("reader checksum %#x, want %#x (the pattern's over %d bytes)", r.Reader.Checksum, want, o.Bytes)
			}
		})
	}
}

// TestConsumeOffByDefault: a reader that is not asked to consume says
// so, and sums nothing.
func TestConsumeOffByDefault(t *testing.T) {
	for _, mode := range []string{"write", "ring", "copy"} {
		r := runOne(t, one(mode))
		if r.Reader.Consumed || r.Reader.Checksum != 0 {
			t.Errorf("%s: Consumed %v, checksum %#x; want false, 0", mode, r.Reader.Consumed, r.Reader.Checksum)
		}
	}
}

// TestRingSleeps: in ring the sides sleep on the futex when the ring is
// full or empty, and wake each other; in ring-busy they never do, and
// spin instead.
func TestRingSleeps(t *testing.T) {
	o := one("ring")
	o.Bytes = 64 << 20 // 32 times the ring: one side must wait for the other
	r := runOne(t, o)
	w, rd := r.Writer, r.Reader
	if w.Sleeps+rd.Sleeps == 0 {
		t.Errorf("ring: writer slept %d times, reader %d; want sleeps on a ring 1/128 of the bytes", w.Sleeps, rd.Sleeps)
	}
	if w.Sleeps > 0 && rd.Wakes == 0 || rd.Sleeps > 0 && w.Wakes == 0 {
		t.Errorf("ring: writer slept %d times, woken %d times by the reader; reader slept %d times, woken %d times: a sleeper nobody woke",
			w.Sleeps, rd.Wakes, rd.Sleeps, w.Wakes)
	}
	o.Mode = "ring-busy"
	r = runOne(t, o)
	if r.Writer.Sleeps+r.Writer.Wakes+r.Reader.Sleeps+r.Reader.Wakes != 0 {
		t.Errorf("ring-busy: sleeps %d/%d, wakes %d/%d; want none", r.Writer.Sleeps, r.Reader.Sleeps, r.Writer.Wakes, r.Reader.Wakes)
	}
	if r.Writer.EAGAIN+r.Reader.EAGAIN == 0 {
		t.Errorf("ring-busy: no side ever found the ring full or empty in 64MiB")
	}
	t.Logf("ring: writer %d sleeps %d wakes; reader %d sleeps %d wakes", w.Sleeps, w.Wakes, rd.Sleeps, rd.Wakes)
}

// TestMemfdRefused: where memfd_create(2) is refused (a seccomp filter, a
// sandbox), Run says so in one line before any child starts.
func TestMemfdRefused(t *testing.T) {
	old := memfdCreate
	memfdCreate = func(string, int) (int, error) { return -1, unix.ENOSYS }
	t.Cleanup(func() { memfdCreate = old })
	for _, mode := range []string{"ring", "copy", "write"} {
		res, err := Run(context.Background(), one(mode), &observer{attach: func(int, int) error {
			t.Errorf("%s: a child started without its memfd", mode)
			return nil
		}}, nil)
		noChildren(t)
		if !errors.Is(err, unix.ENOSYS) {
			t.Fatalf("%s: got %v, want ENOSYS", mode, err)
		}
		want := "run 1 of 1: memfd_create pipelab-"
		if msg := err.Error(); !strings.HasPrefix(msg, want) || strings.Contains(msg, "\n") ||
			!strings.Contains(msg, ": function not implemented (pipelab needs memfd_create(2), Linux 3.17 or later,") {
			t.Errorf("%s: got %q, want one line starting %q and naming the errno and the remedy", mode, msg, want)
		}
		if res == nil || len(res.Runs) != 0 || !res.Incomplete {
			t.Errorf("%s: got result %+v, want an incomplete one with no runs", mode, res)
		}
	}
}

// TestChecksumCuts: the checksum of a stream is the same however it is
// cut into chunks, and equals the sum of its aligned little-endian words.
func TestChecksumCuts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	stream := make([]byte, 10007)
	for i := range stream {
		stream[i] = byte(rng.Uint32())
	}
	var want uint64 // byte i weighs as in the little-endian word it is part of
	for i := 0; i < len(stream); i++ {
		want += uint64(stream[i]) << (8 * uint(i%8))
	}
	for trial := 0; trial < 200; trial++ {
		var sum uint64
		for off := 0; off < len(stream); {
			n := min(1+rng.IntN(300), len(stream)-off)
			sum = checksum(stream[off:off+n], int64(off), sum)
			off += n
		}
		if sum != want {
			t.Fatalf("trial %d: got %#x, want %#x", trial, sum, want)
		}
	}
	if got := checksum(stream, 0, 0); got != want {
		t.Errorf("whole stream: got %#x, want %#x", got, want)
	}
}

// FuzzChecksum: cutting the stream at any point leaves its checksum as it
// was.
func FuzzChecksum(f *testing.F) {
	f.Add([]byte("the quick brown fox jumps over the lazy dog, twice or more"), uint16(13), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, cut uint16, off uint8) {
		at := int(cut) % (len(b) + 1)
		whole := checksum(b, int64(off), 0)
		if got := checksum(b[at:], int64(off)+int64(at), checksum(b[:at], int64(off), 0)); got != whole {
			t.Errorf("cut at %d of %d (offset %d): got %#x, want %#x", at, len(b), off, got, whole)
		}
	})
}

// TestStreamCopy: the streaming copy copies every byte, whatever the
// alignment of either side and the length, and nothing past the end.
func TestStreamCopy(t *testing.T) {
	src := make([]byte, 1000)
	for i := range src {
		src[i] = byte(i*7 + 1)
	}
	for dstOff := 0; dstOff < 70; dstOff += 3 {
		for srcOff := 0; srcOff < 20; srcOff += 5 {
			for _, n := range []int{0, 1, 63, 64, 65, 127, 128, 200, 700} {
				dst := make([]byte, 1000)
				streamCopy(dst[dstOff:], src[srcOff:srcOff+n])
				for i, b := range dst {
					want := byte(0)
					if i >= dstOff && i < dstOff+n {
						want = src[srcOff+i-dstOff]
					}
					if b != want {
						t.Fatalf("dst offset %d, src offset %d, %d bytes: byte %d is %d, want %d", dstOff, srcOff, n, i, b, want)
					}
				}
			}
		}
	}
}

// TestModeCeilings: two modes measure a ceiling, copy (one core's copy
// in cache) and ring-busy (the busy ring); copy-dram, the copy out of
// cache, and every other mode measure none.
func TestModeCeilings(t *testing.T) {
	want := map[string]string{"copy": "copy", "ring-busy": "ring"}
	for _, m := range Modes() {
		if m.Ceiling != want[m.Name] {
			t.Errorf("mode %s: ceiling %q, want %q", m.Name, m.Ceiling, want[m.Name])
		}
	}
}
