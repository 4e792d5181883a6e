// Package bench runs the pipe strategies of "How fast are Linux pipes
// anyway?" (https://mazzo.li/posts/fast-pipes.html) as a real writer process and a
// real reader process joined by one pipe(2), and measures throughput.
//
// The writer and the reader are the calling binary itself, re-executed with
// a hidden role (see Child). Every strategy is Go code calling
// golang.org/x/sys/unix directly from a locked OS thread, with no
// allocation in the hot loop.
//
// bench never profiles, never renders, never writes a result file and
// never spells a flag of the command line (its *OptionError names fields
// of Options); of pipelab's packages it imports only result (a command's
// saved status), and tells its caller about each run's children through
// the Observer it declares.
package bench

import "time"

// Options are the knobs of one benchmark: a mode plus every flag of the
// post's write.cpp and read.cpp. The zero value is not useful; start from
// DefaultOptions.
type Options struct {
	// Mode names the strategy, one of Modes().
	Mode string
	// BufSizeBytes is the size of the writer's (and reader's) buffer.
	BufSizeBytes int
	// Bytes is how many bytes the reader takes before it stops.
	Bytes int64
	// PipeSizeBytes is passed to F_SETPIPE_SZ; 0 keeps the kernel default
	// (or, for vmsplice modes, BufSizeBytes/2 as the post's double-buffer
	// scheme needs).
	PipeSizeBytes int
	// Busy makes both ends spin on EAGAIN with SPLICE_F_NONBLOCK / O_NONBLOCK.
	Busy bool
	// Poll makes both ends poll(2) for readiness before each call.
	Poll bool
	// Huge backs the buffer with transparent huge pages (2 MiB aligned,
	// madvise(MADV_HUGEPAGE)).
	Huge bool
	// CheckHuge verifies through /proc/self/pagemap and /proc/kpageflags
	// that the buffer really is backed by a huge page, and fails if not.
	CheckHuge bool
	// Gift passes SPLICE_F_GIFT to vmsplice and SPLICE_F_MOVE to splice.
	Gift bool
	// LockMemory mlocks the buffer.
	LockMemory bool
	// DontTouchPages skips the memset that faults the buffer in.
	DontTouchPages bool
	// SameBuffer makes the vmsplice writer splice the same half-buffer
	// every time instead of alternating between two.
	SameBuffer bool
	// BufOffset is how many bytes past a page boundary (a 2MiB boundary
	// for huge pages) the buffers start, 0 to 4095. MallocOffset
	// (DefaultOptions) stands for where the post's programs have them:
	// glibc's malloc serves a small-page block this large from its own
	// mmap, 16 bytes past the page boundary, and aligned_alloc puts the
	// huge-page buffer on the boundary. See Effective.
	BufOffset int
	// PinWriter and PinReader are the CPUs the children are pinned to;
	// -1 leaves a child unpinned.
	PinWriter, PinReader int
	// Repeat is how many times the transfer runs.
	Repeat int
	// Verify makes the writer fill its buffer with block sequence numbers
	// and the reader (in read(2) modes) check every byte.
	Verify bool
	// Timeout stops a run whose children make no progress for this long;
	// 0 means no timeout.
	Timeout time.Duration
	// RewriteAfterSplice is the vmsplice-reuse experiment (docs/tour.md,
	// "Can the writer reuse a vmsplice'd buffer?"): the vmsplice writer,
	// without SPLICE_F_GIFT, rewrites a half-buffer with the next block's
	// content as soon as vmsplice returns, while the
	// reader may not have read those pages yet. Needs Verify, so that the
	// reader reports what it saw.
	RewriteAfterSplice bool
	// KeepCPUsAwake holds a request that keeps every CPU out of idle
	// states while Run runs its transfers (see awake.go): an experiment
	// to measure what waking idle CPUs costs the blocking modes.
	KeepCPUsAwake bool
	// Consume makes the reader use every byte it takes: it sums them
	// (Checksum in its ChildReport), after read(2) or a copy out of the
	// ring or the memory. A splice reader, which never has the bytes,
	// takes them into its buffer with read(2) instead (see consume.go).
	Consume bool
	// RingSizeBytes is the size of the ring of the ring modes, a power of
	// two that holds at least two buffers; 0 picks 2MiB, or the least such
	// size if that is larger.
	RingSizeBytes int
	// Streaming makes the ring's writer copy into the ring with
	// non-temporal (streaming) stores, which go to memory rather than into
	// its own cache, so the reader takes the lines from memory instead of
	// from the writer's cache (see stream.go).
	Streaming bool
	// WriterCmd and ReaderCmd, when set, are shell command lines (run
	// with /bin/sh -c) that take the place of pipelab's writer or reader:
	// the writer command's stdout is the pipe's write end, the reader
	// command's stdin its read end. The other side stays pipelab's own
	// strategy for Mode, and Bytes stops the transfer only where that side
	// is pipelab's (see external.go).
	WriterCmd, ReaderCmd string
}

// Observer is told about each run's children. bench declares it and the
// profile package satisfies it, so neither imports the other.
type Observer interface {
	// Attach is called once per run with the pids of the writer and the
	// reader, after both have started and are blocked on their start gate,
	// before either runs its hot loop. An error aborts the run.
	Attach(writer, reader int) error
	// Start is called just before the gate opens.
	Start() error
	// Stop is called once both children have exited (or were killed),
	// whether the run succeeded or not.
	Stop() error
}

// MallocOffset is the BufOffset that places buffers where the post's
// programs have them: 16 bytes past a page boundary for small pages (the
// header glibc's malloc puts before a block it maps on its own, which it
// does from 128KiB up), on a 2MiB boundary for huge pages.
const MallocOffset = -1

// mallocHeader is the offset malloc gives a block it maps on its own: the
// chunk header of two size_t.
const mallocHeader = 16

// DefaultOptions returns the post's settings: mode write, a 256KiB buffer
// placed as malloc places it, 10GiB piped, the kernel's pipe size (half
// the buffer for vmsplice modes), writer pinned to CPU 0 and reader to
// CPU 1 when this process may run on both (else unpinned), and 5 repeats.
func DefaultOptions() Options {
	o := Options{
		Mode:         "write",
		BufSizeBytes: 256 << 10,
		Bytes:        10 << 30,
		PinWriter:    -1,
		PinReader:    -1,
		Repeat:       5,
		BufOffset:    MallocOffset,
	}
	cpus, err := AllowedCPUs()
	if err == nil && contains(cpus, 0) && contains(cpus, 1) {
		o.PinWriter, o.PinReader = 0, 1
	}
	return o
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
