package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

const (
	tick         = 100 * time.Millisecond // progress and --timeout checks
	progressTick = 250 * time.Millisecond // how often progress is called
)

// Limits on children that hang; variables so tests can shorten them.
var (
	readyTimeout = 30 * time.Second // children's setup before the gate
	stopGrace    = 10 * time.Second // writer's time to see EPIPE
	exitGrace    = time.Minute      // and to exit, once it has begun to
)

// Run validates o, then runs the transfer o.Repeat times, each through a
// fresh pipe between a fresh writer and reader. obs (may be nil) is told
// about each run's children; progress (may be nil) is called a few times a
// second from Run's goroutine. On a child failure Run returns the runs so
// far with Incomplete set and a *ChildError; on cancellation of ctx, with
// Interrupted set and an error wrapping ErrInterrupted. No child outlives
// Run. Other pipelab runs on the same CPUs meanwhile are in the result's
// Shared (see shared.go).
func Run(ctx context.Context, o Options, obs Observer, progress func(Progress)) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.KeepCPUsAwake {
		release, err := holdCPUsAwake()
		if err != nil {
			return nil, fmt.Errorf("keep CPUs awake: %w", err)
		}
		defer release()
	}
	res := &Result{Options: o}
	b := raiseBeacon(runCPUs(o))
	defer b.close()
	for i := 0; i < o.Repeat; i++ {
		r := &runner{o: o, p: planFor(o), index: i, obs: obs, progress: progress, gateW: -1}
		res.Shared = addShared(res.Shared, b.others())
		rr, err := r.run(ctx)
		res.Shared = addShared(res.Shared, b.others())
		if rr != nil {
			res.Runs = append(res.Runs, *rr)
		}
		for _, w := range r.warnings {
			res.Warnings = appendOnce(res.Warnings, w)
		}
		if err != nil {
			if errors.Is(err, ErrInterrupted) {
				res.Interrupted = true
			} else {
				res.Incomplete = true
			}
			return res, fmt.Errorf("run %d of %d: %w", i+1, o.Repeat, err)
		}
	}
	return res, nil
}

// appendOnce appends w to list unless list already says the same.
func appendOnce(list []Warning, w Warning) []Warning {
	for _, x := range list {
		if x.String() == w.String() {
			return list
		}
	}
	return append(list, w)
}

// runner is one run: its pipe, gate, counters and children.
type runner struct {
	o        Options
	p        plan
	index    int
	obs      Observer
	progress func(Progress)
	warnings []Warning

	gateW   int    // write end of the gate; closing it starts the run
	shared  []byte // progress counters shared with the children
	writer  *kid
	reader  *kid
	started time.Time

	// Set when a side is a command (see guard.go).
	tag   string // envRunTag of the run
	guard *guard
}

// run does one transfer. It always reaps both children before returning.
func (r *runner) run(ctx context.Context) (*RunResult, error) {
	files, err := r.setup()
	if err != nil {
		return nil, err
	}
	defer unix.Munmap(r.shared)
	defer r.closeGate()
	if r.o.WriterCmd != "" || r.o.ReaderCmd != "" {
		if err := r.startGuard(); err != nil {
			closeAll(files)
			return nil, err
		}
		defer r.endGuard() // after both children are killed and reaped
	}
	err = r.start(files)
	closeAll(files) // the children hold their own copies now
	if err != nil {
		return nil, err
	}
	defer r.writer.kill()
	defer r.reader.kill()
	if err := r.awaitReady(ctx); err != nil {
		return r.partial(), err
	}
	err = r.attach()
	if err == nil {
		err = r.monitor(ctx)
	}
	if r.obs != nil {
		r.killBoth() // Stop comes after both have exited
		if stopErr := r.obs.Stop(); stopErr != nil && err == nil {
			err = fmt.Errorf("observer stop: %w", stopErr)
		}
	}
	if err != nil {
		return r.partial(), err
	}
	return r.complete()
}

// setup makes the transport (see transport), the gate and the counters.
// It returns the files the children get: writer end, reader end, gate
// read end, memfd.
func (r *runner) setup() (files []*os.File, err error) {
	var g [2]int
	files, err = r.transport()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			closeAll(files)
		}
	}()
	if err := unix.Pipe2(g[:], unix.O_CLOEXEC); err != nil {
		return files, fmt.Errorf("pipe2 for the start gate: %w", err)
	}
	files = append(files, os.NewFile(uintptr(g[0]), "gate-r"))
	r.gateW = g[1]
	mfd, err := newMemfd("pipelab-progress")
	if err != nil {
		r.closeGate()
		return files, err
	}
	files = append(files, os.NewFile(uintptr(mfd), "progress"))
	if err := r.mapShared(mfd); err != nil {
		r.closeGate()
		return files, err
	}
	return files, nil
}

// sizePipe applies F_SETPIPE_SZ and checks what the kernel made of it.
func (r *runner) sizePipe(fd int) error {
	want := r.p.PipeSizeBytes
	if want == 0 {
		return nil
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, want); err != nil {
		return fmt.Errorf("fcntl F_SETPIPE_SZ %s: %w (check /proc/sys/fs/pipe-max-size and fs.pipe-user-pages-soft)", FormatSize(int64(want)), err)
	}
	got, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		return fmt.Errorf("fcntl F_GETPIPE_SZ: %w", err)
	}
	if got != want {
		r.warnings = append(r.warnings, warnf("pipe size %s rounded up to %s by the kernel (a power of two pages)",
			FormatSize(int64(want)), FormatSize(int64(got))))
	}
	if r.p.Writer == "vmsplice" && got > r.o.BufSizeBytes/2 {
		r.warnings = append(r.warnings, warn("pipe size ", FormatSize(int64(got)), " is more than half the ", FormatSize(int64(r.o.BufSizeBytes)),
			" buffer: the vmsplice writer rewrites pages still in the pipe, so the reader gets wrong bytes (the post's double buffer needs a pipe of half the buffer; ",
			field("Verify"), " shows it)"))
	}
	return nil
}

func (r *runner) mapShared(mfd int) error {
	if err := unix.Ftruncate(mfd, sharedSize); err != nil {
		return fmt.Errorf("ftruncate memfd: %w", err)
	}
	m, err := unix.Mmap(mfd, 0, sharedSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap memfd: %w", err)
	}
	r.shared = m
	return nil
}

func (r *runner) closeGate() {
	if r.gateW >= 0 {
		unix.Close(r.gateW)
		r.gateW = -1
	}
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// start launches the writer and the reader, and has the guard watch the
// process group of each command.
func (r *runner) start(files []*os.File) error {
	w, err := r.startKid("writer", []*os.File{files[0], files[2], files[3]})
	if err != nil {
		return err
	}
	rd, err := r.startKid("reader", []*os.File{files[1], files[2], files[3]})
	if err != nil {
		w.kill()
		return err
	}
	r.writer, r.reader = w, rd
	return nil
}

// startKid starts one child; a command's is watched by the guard before
// the gate can open, so that the command never runs unguarded.
func (r *runner) startKid(role string, files []*os.File) (*kid, error) {
	k, err := startKid(role, r.o, files, r.tag)
	if err != nil || k.command == "" {
		return k, err
	}
	if err := r.guard.watch(k.cmd.Process.Pid); err != nil {
		k.kill()
		return nil, err
	}
	return k, nil
}

// startGuard tags the run and starts its guard.
func (r *runner) startGuard() error {
	r.tag = newRunTag()
	g, err := startGuard(r.tag)
	if err != nil {
		return err
	}
	r.guard = g
	return nil
}

// endGuard kills and names whatever the commands left running outside
// their process groups, then lets the guard go.
func (r *runner) endGuard() {
	var groups []int
	for _, k := range []*kid{r.writer, r.reader} {
		if k != nil && k.command != "" {
			groups = append(groups, k.cmd.Process.Pid)
		}
	}
	for _, e := range killEscaped(r.tag, groups) {
		r.warnings = append(r.warnings, warn(e))
	}
	r.guard.close()
}

// awaitReady waits until both children are set up and blocked on the gate.
// A child not ready after readyTimeout fails the run, unless it used CPU
// time since the last look: then it is still setting up, not hung (under
// emulation, laying out copy-dram's source takes minutes), and it gets
// another readyTimeout.
func (r *runner) awaitReady(ctx context.Context) error {
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	start := time.Now()
	ticks := map[*kid]int64{}
	for r.writer.ready == nil || r.reader.ready == nil {
		select {
		case m, ok := <-r.writer.msgs:
			if err := r.readyMsg(r.writer, m, ok); err != nil {
				return err
			}
		case m, ok := <-r.reader.msgs:
			if err := r.readyMsg(r.reader, m, ok); err != nil {
				return err
			}
		case <-ctx.Done():
			r.killBoth()
			return interruption(ctx, " before the start")
		case <-timer.C:
			k := r.writer
			if k.ready != nil {
				k = r.reader
			}
			if t := cpuTicks(k.cmd.Process.Pid); t > ticks[k] {
				ticks[k] = t
				timer.Reset(readyTimeout)
				continue
			}
			r.killBoth()
			msg := fmt.Sprintf("was not ready after %s", readyTimeout)
			if ticks[k] > 0 {
				msg = fmt.Sprintf("was not ready after %s, and used no CPU time in the last %s", time.Since(start).Round(readyTimeout/10), readyTimeout)
			}
			return &ChildError{Role: k.role, ExitStatus: -1, Message: msg}
		}
	}
	return nil
}

// readyMsg handles one status message before the gate; a closed channel
// or an error means the child failed during setup.
func (r *runner) readyMsg(k *kid, m childMsg, ok bool) error {
	if ok {
		k.take(m)
		if m.Kind != "error" {
			return nil
		}
	}
	<-k.done
	r.killBoth()
	return k.childError()
}

// killBoth stops both children side by side (a command may take
// termGrace to stop) and reaps them.
func (r *runner) killBoth() {
	done := make(chan struct{})
	go func() {
		r.writer.kill()
		close(done)
	}()
	r.reader.kill()
	<-done
}

// attach tells the observer about the gated children and opens the gate.
func (r *runner) attach() error {
	if r.obs != nil {
		if err := r.obs.Attach(r.writer.cmd.Process.Pid, r.reader.cmd.Process.Pid); err != nil {
			return fmt.Errorf("observer attach: %w", err)
		}
		if err := r.obs.Start(); err != nil {
			return fmt.Errorf("observer start: %w", err)
		}
	}
	for _, k := range []*kid{r.writer, r.reader} {
		if k.command != "" {
			k.ioBase = readIO(k.cmd.Process.Pid) // what the gated child did itself
		}
	}
	r.started = time.Now()
	r.closeGate()
	return nil
}
