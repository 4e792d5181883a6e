package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The child protocol: the runner re-executes /proc/self/exe with envRole
// naming the role and envOptions holding the Options as JSON, and passes
// four descriptors.
const (
	envRole    = "PIPELAB_CHILD"
	envOptions = "PIPELAB_CHILD_OPTIONS"
	// envFault is a test hook, "ROLE:stall", "ROLE:exit3" or
	// "ROLE:setup": the child of that role stops making progress after its
	// first buffer, exits with status 3 before the gate opens, or fails
	// its setup.
	envFault = "PIPELAB_TEST_FAULT"

	fdPipe   = 3 // the child's end of the pipe
	fdGate   = 4 // read end of the start gate: EOF means go
	fdStatus = 5 // JSON lines to the runner: ready, then result or error
	fdShared = 6 // memfd with the progress counters

	exitFailed = 1 // the child reported an error on fdStatus
	exitFault  = 3 // the envFault hook asked for it
	// exitPeerGone is the reader's status when the writer closed the pipe
	// before the reader had all its bytes: a consequence, not a cause.
	exitPeerGone = 4
)

// peerGone is the reader's error when the pipe reached EOF too early.
type peerGone struct{ error }

// Offsets of the counters in the shared memfd, each an atomic int64. The
// reader's and the writer's sit on different cache lines: both children
// update theirs on every call, and a shared line would bounce between the
// two CPUs on each one (the runner only reads them a few times a second).
const (
	offReaderBytes = 0
	offReaderTries = 8
	offWriterBytes = 64
	offWriterTries = 72
	sharedSize     = 4096
)

// ChildReport is what one child (writer or reader) saw and did in one run,
// as it reported it to the runner.
type ChildReport struct {
	// PID and TID identify the child and the thread running its hot loop.
	PID, TID int
	// CPUs is the affinity of the hot thread after pinning.
	CPUs []int
	// PipeSizeBytes is F_GETPIPE_SZ on the child's end of the pipe (0
	// in the modes without one).
	PipeSizeBytes int
	// TransportBytes is the most the transport holds, the most the
	// writer can be ahead of the reader: the pipe's size, the socket's
	// send buffer (SO_SNDBUF of the child's end, which the kernel doubles
	// for its bookkeeping), or the ring's size; 0 in the copy modes.
	TransportBytes int
	// LockedKiB is VmLck of /proc/self/status once the buffer is set up.
	LockedKiB int64
	// HugeChecked is true when --check-huge proved every page of the
	// buffer to be part of a transparent huge page.
	HugeChecked bool
	// BufPageOffset is the address of the buffer the hot loop passes to
	// the kernel, modulo the page size (see Options.BufOffset).
	BufPageOffset int
	// Bytes is how many bytes the child moved through the pipe.
	Bytes int64
	// DurationNanos is the child's time from the gate opening to its
	// last byte.
	DurationNanos int64
	// Calls counts the syscalls that moved bytes.
	Calls int64
	// EAGAIN counts calls that returned EAGAIN (busy looping).
	EAGAIN int64
	// Polls counts poll(2) calls (--poll).
	Polls int64
	// Verified is true when the reader checked every byte (--verify).
	Verified bool
	// FirstCorruptOffset is the stream offset of the first byte that did
	// not match the writer's pattern, or -1.
	FirstCorruptOffset int64
	// Consumed is true when the reader used every byte it took
	// (--consume); Checksum is then the sum of them (see checksum).
	Consumed bool
	Checksum uint64
	// Sleeps counts the futex waits in which a ring side slept (the ring
	// was full or empty), and Wakes the futex wakes it made for the other
	// side; zero in the busy ring and in the pipe and socket modes.
	Sleeps, Wakes int64
}

// childMsg is one JSON line on fdStatus.
type childMsg struct {
	Kind   string       `json:"kind"` // "ready", "result" or "error"
	Error  string       `json:"error,omitempty"`
	Report *ChildReport `json:"report,omitempty"`
}

// A child runs on its process's main thread, whose tid is its pid, from
// its first instruction to its exec or exit. The Go runtime runs init
// functions locked to the startup thread, and a LockOSThread in one keeps
// main on it too (see runtime.main). Child's own LockOSThread would come
// too late: until then the main goroutine may move to another thread (a
// blocking syscall or a preemption suffices, and on a loaded machine it
// happens in a few percent of children). An external command's shell
// would then be exec'd from that thread, and the exec gives it the main
// thread's tid (the kernel's de_thread): the wall view, which labels a
// thread's records with the tid it attached to, would name the shell's
// sleeps after this binary ("exe").
func init() {
	if os.Getenv(envRole) != "" {
		runtime.LockOSThread()
	}
}

// Child runs the writer or reader role if this process was started as one
// by Run, and then exits; otherwise it returns at once. Call it first in
// main and in TestMain.
func Child() {
	role := os.Getenv(envRole)
	if role == "" {
		return
	}
	if role == guardRole {
		runGuard()
	}
	// The goroutine is locked to the main thread already (init); a
	// second lock would keep unlocked's hot loops locked.
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(-1)
	if err := runChild(role); err != nil {
		send(childMsg{Kind: "error", Error: err.Error()})
		if errors.As(err, new(peerGone)) {
			exit(exitPeerGone)
		}
		exit(exitFailed)
	}
	exit(0)
}

// exit ends the child. Its runtime threads go back to the hot thread's
// policy first (see unidleThreads): the runner can reap a process only
// once every one of its threads has run its own exit, and a SCHED_IDLE
// thread on a CPU that other work keeps busy may wait seconds for that.
func exit(code int) {
	unidleThreads(os.Getpid())
	os.Exit(code)
}

// child is the state of one writer or reader.
type child struct {
	role   string
	o      Options
	p      plan
	buf    buffer
	ring   *ring // the ring and copy modes' memfd
	shared []byte
	fault  string // "", "stall" or "exit3"
	rep    ChildReport
}

func runChild(role string) error {
	c := &child{role: role, rep: ChildReport{PID: os.Getpid(), TID: unix.Gettid(), FirstCorruptOffset: -1}}
	if err := json.Unmarshal([]byte(os.Getenv(envOptions)), &c.o); err != nil {
		return fmt.Errorf("decode %s: %w", envOptions, err)
	}
	c.p = planFor(c.o)
	if cmdline := c.o.command(role); cmdline != "" {
		return c.runCommand(cmdline)
	}
	// A pipelab writer learns that the reader has gone from EPIPE; an
	// external command keeps the default (dispositions set to ignore
	// survive execve).
	signal.Ignore(syscall.SIGPIPE)
	if r, action, ok := strings.Cut(os.Getenv(envFault), ":"); ok && r == role {
		c.fault = action
	}
	if c.fault == "setup" {
		return errors.New("test fault: setup failure requested by " + envFault)
	}
	if err := c.setup(); err != nil {
		return err
	}
	send(childMsg{Kind: "ready", Report: &c.rep})
	if c.fault == "exit3" {
		fmt.Fprintln(os.Stderr, "test fault: exit 3 requested by "+envFault)
		exit(exitFault)
	}
	if err := waitGate(); err != nil {
		return err
	}
	var err error
	if role == "writer" {
		err = c.write()
	} else {
		err = c.read()
	}
	if err != nil {
		return err
	}
	if tid := unix.Gettid(); tid != c.rep.TID {
		return fmt.Errorf("hot loop moved from thread %d to thread %d: its pinning, name and per-thread profile do not follow it", c.rep.TID, tid)
	}
	send(childMsg{Kind: "result", Report: &c.rep})
	return nil
}

// unlocked runs a hot loop with the goroutine unlocked from its thread,
// and locks it again after.
//
// Why: the Go runtime's sysmon asks a goroutine that has run for 10ms
// without passing through the scheduler to yield (it cannot see that a
// raw call blocked meanwhile), and the goroutine does so at the next
// function call. A goroutine locked to its thread cannot simply be picked
// up again by that thread: the runtime parks the thread, hands the P to
// another thread, which finds the goroutine and wakes the locked thread
// to run it (runtime.stoplockedm, then runtime.startlockedm). That was a
// sleep and a wake-up of the hot thread every few tens of milliseconds,
// and a run of one of the runtime's threads on the hot CPU, in every
// mode; in busy mode they were most of its sleeps. Unlocked, the yield puts the goroutine on
// the run queue and the same thread takes it straight back, with no
// sleep: GOMAXPROCS is 1, so only the thread holding the one P runs Go
// code, and nothing in a hot loop gives the P up (raw calls, rawsys.go,
// not even poll; no allocation with the GC off; no channel or timer).
// The thread stays the one setup pinned, named and reported as TID, and
// the child fails if the loop ever ends on another one.
func unlocked(loop func() error) error {
	runtime.UnlockOSThread()
	defer runtime.LockOSThread()
	return loop()
}

// setup does everything before the gate: pin, map the counters and the
// buffer, check it, and look at the pipe.
func (c *child) setup() error {
	if err := c.pin(); err != nil {
		return err
	}
	if err := idleOtherThreads(); err != nil {
		return err
	}
	if err := nameThreads("pipelab-" + c.role); err != nil {
		return err
	}
	m, err := unix.Mmap(fdShared, 0, sharedSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap progress counters: %w", err)
	}
	c.shared = m
	if err := c.setupTransport(); err != nil {
		return err
	}
	switch {
	case c.role == "reader" && c.p.Reader == "splice":
		// No buffer: the reader splices to /dev/null.
	case c.role == "writer" && c.p.Writer == "fill":
		c.fillSource() // the copy modes' writer has the memfd only
	default:
		if err := c.setupBuffer(); err != nil {
			return err
		}
	}
	return c.lockedKiB()
}

// setupTransport looks at the child's end of the pipe or socket, or maps
// the ring's or the copy source's memfd.
func (c *child) setupTransport() error {
	if size := memfdSize(c.p, c.o.BufSizeBytes); size > 0 {
		if c.p.Dram {
			// The runner sized copy-dram's source for the memory it
			// saw free, which may have changed since.
			var st unix.Stat_t
			if err := unix.Fstat(fdPipe, &st); err != nil {
				return fmt.Errorf("fstat the memfd: %w", err)
			}
			size = int(st.Size)
		}
		r, err := mapRing(size - ringHeaderBytes)
		if err != nil {
			return err
		}
		c.ring = r
		if c.p.Transport == ringTransport {
			c.rep.TransportBytes = len(r.data)
		}
		if c.p.Writer != "fill" || c.role == "reader" {
			r.touch(c.role) // the copy writer's fill touches its pages
		}
		return nil
	}
	if c.p.Transport == pipeTransport {
		sz, err := unix.FcntlInt(fdPipe, unix.F_GETPIPE_SZ, 0)
		if err != nil {
			return fmt.Errorf("fcntl F_GETPIPE_SZ: %w", err)
		}
		c.rep.PipeSizeBytes, c.rep.TransportBytes = sz, sz
	}
	if c.p.Transport == socketTransport {
		sz, err := unix.GetsockoptInt(fdPipe, unix.SOL_SOCKET, unix.SO_SNDBUF)
		if err != nil {
			return fmt.Errorf("getsockopt SO_SNDBUF: %w", err)
		}
		c.rep.TransportBytes = sz
	}
	if c.p.Busy && (c.role == "writer" && c.p.Writer == "write" || c.role == "reader" && c.p.Reader == "read") {
		if err := unix.SetNonblock(fdPipe, true); err != nil {
			return fmt.Errorf("set O_NONBLOCK: %w", err)
		}
	}
	return nil
}

// nameThreads names every thread of the child, the hot one by
// prctl(PR_SET_NAME) and the runtime's through /proc/self/task/TID/comm,
// so that ps, top and perf's comm show the role instead of "exe" (the
// name of /proc/self/exe, which the runner executes). Threads the runtime
// starts later inherit the name from the thread that clones them.
func nameThreads(name string) error {
	if err := setThreadName(name); err != nil {
		return fmt.Errorf("prctl PR_SET_NAME %s: %w", name, err)
	}
	me := strconv.Itoa(unix.Gettid())
	tids, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("list threads: %w", err)
	}
	for _, e := range tids {
		if e.Name() == me {
			continue
		}
		err := os.WriteFile("/proc/self/task/"+e.Name()+"/comm", []byte(name), 0)
		if err != nil && !errors.Is(err, os.ErrNotExist) { // gone: the thread has exited
			return fmt.Errorf("name runtime thread %s: %w", e.Name(), err)
		}
	}
	return nil
}

func (c *child) pin() error {
	cpu := c.o.PinWriter
	if c.role == "reader" {
		cpu = c.o.PinReader
	}
	var set unix.CPUSet
	if cpu >= 0 {
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return fmt.Errorf("pin %s to CPU %d: %w", c.role, cpu, err)
		}
	}
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return fmt.Errorf("sched_getaffinity: %w", err)
	}
	c.rep.CPUs = cpuList(&set)
	return nil
}

// setupBuffer maps the buffer (huge or not), locks it, faults it in and
// checks it is huge, as the knobs say.
func (c *child) setupBuffer() error {
	var err error
	off := c.o.Effective().BufOffset
	if c.p.Huge {
		c.buf, err = hugeBuffer(c.o.BufSizeBytes, off)
	} else {
		c.buf, err = pageBuffer(c.o.BufSizeBytes, off)
	}
	if err != nil {
		return err
	}
	if c.o.LockMemory {
		if err := unix.Mlock(c.buf.data); err != nil {
			return fmt.Errorf("mlock %s: %w (raise ulimit -l)", FormatSize(int64(len(c.buf.data))), err)
		}
	}
	if !c.o.DontTouchPages {
		if c.o.Verify && c.role == "writer" {
			stamp(c.buf.data, 0)
		} else {
			fill(c.buf.data, 'X')
		}
	}
	c.rep.BufPageOffset = int(addrOf(c.buf.data) % uintptr(pageSize))
	if c.o.CheckHuge {
		if err := checkHuge(c.buf.data); err != nil {
			return fmt.Errorf("%s buffer: %w", c.role, err)
		}
		c.rep.HugeChecked = true
	}
	return nil
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

// lockedKiB records VmLck from /proc/self/status.
func (c *child) lockedKiB() error {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return fmt.Errorf("read VmLck: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmLck:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return fmt.Errorf("parse VmLck %q: %w", v, err)
			}
			c.rep.LockedKiB = n
			return nil
		}
	}
	return errors.New("read VmLck: not in /proc/self/status")
}

// waitGate blocks until the runner closes the gate's write end.
func waitGate() error {
	var b [1]byte
	for {
		n, err := unix.Read(fdGate, b[:])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("wait for start gate: %w", err)
		case n == 0:
			return nil
		}
	}
}

// send writes one status line to the runner.
func send(m childMsg) {
	b, _ := json.Marshal(m)
	b = append(b, '\n')
	for len(b) > 0 {
		n, err := unix.Write(fdStatus, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return // the runner is gone; nothing to tell
		}
		b = b[n:]
	}
}

// stall stops making progress for good (test hook).
func stall() {
	for {
		time.Sleep(time.Hour)
	}
}
