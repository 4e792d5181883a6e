package profile_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	perf "github.com/elastic/go-perf"
	"github.com/pipelab/pipelab/bench"
	"golang.org/x/sys/unix"
)

// The test binary doubles as the writer and the reader of a pipe, the way
// pipelab re-executes itself: TestMain runs the child when
// PROFILE_TEST_CHILD is set. fd 3 is the start gate, fd 4 the ready
// signal, fd 5 the pipe end.
const childEnv = "PROFILE_TEST_CHILD"

func init() {
	if os.Getenv(childEnv) != "" {
		runtime.LockOSThread() // keep the hot loop on the main thread
	}
}

func TestMain(m *testing.M) {
	bench.Child() // the writer or the reader of a bench.Run; returns otherwise
	if role := os.Getenv(childEnv); role != "" {
		if err := runChild(role); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if code == 0 {
		if kids := childrenOf(os.Getpid()); len(kids) > 0 {
			fmt.Fprintf(os.Stderr, "tests left child processes running: %v\n", kids)
			code = 1
		}
	}
	os.Exit(code)
}

// childrenOf lists the live children of pid from /proc.
func childrenOf(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// runChild is the writer or the reader: "write-writer", "write-reader",
// "splice-writer", "splice-reader". It moves PROFILE_TEST_BYTES bytes.
func runChild(role string) error {
	total, err := strconv.ParseInt(os.Getenv("PROFILE_TEST_BYTES"), 10, 64)
	if err != nil {
		return err
	}
	if cpu, err := strconv.Atoi(os.Getenv("PROFILE_TEST_CPU")); err == nil {
		var set unix.CPUSet
		set.Set(cpu)
		unix.SchedSetaffinity(0, &set)
	}
	buf := make([]byte, 256<<10)
	for i := range buf {
		buf[i] = byte(i)
	}
	if _, err := unix.Write(4, []byte{1}); err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	if _, err := unix.Read(3, buf[:1]); err != nil {
		return fmt.Errorf("gate: %w", err)
	}
	switch role {
	case "write-writer":
		return writeLoop(5, buf, total)
	case "write-reader", "splice-reader-read":
		return readLoop(5, buf, total)
	case "splice-writer":
		return vmspliceLoop(5, buf, total)
	case "splice-reader":
		return spliceLoop(5, total)
	}
	return fmt.Errorf("unknown role %q", role)
}

func writeLoop(fd int, buf []byte, total int64) error {
	for done := int64(0); done < total; {
		n, err := unix.Write(fd, buf[:min(int64(len(buf)), total-done)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		done += int64(n)
	}
	return nil
}

func readLoop(fd int, buf []byte, total int64) error {
	for done := int64(0); done < total; {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return fmt.Errorf("read after %d bytes: %v", done, err)
		}
		done += int64(n)
	}
	return nil
}

// vmspliceLoop gifts alternate halves of buf, the post's double buffer.
func vmspliceLoop(fd int, buf []byte, total int64) error {
	half := len(buf) / 2
	for done, i := int64(0), 0; done < total; i++ {
		h := buf[(i%2)*half : (i%2+1)*half]
		for len(h) > 0 && done < total {
			iov := []unix.Iovec{{Base: &h[0]}}
			iov[0].SetLen(int(min(int64(len(h)), total-done)))
			n, err := unix.Vmsplice(fd, iov, 0)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return fmt.Errorf("vmsplice: %w", err)
			}
			h = h[n:]
			done += int64(n)
		}
	}
	return nil
}

func spliceLoop(fd int, total int64) error {
	null, err := unix.Open("/dev/null", unix.O_WRONLY, 0)
	if err != nil {
		return err
	}
	for done := int64(0); done < total; {
		n, err := unix.Splice(fd, nil, null, nil, int(min(int64(1<<20), total-done)), unix.SPLICE_F_MOVE)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return fmt.Errorf("splice after %d bytes: %v", done, err)
		}
		done += n
	}
	return nil
}

// observer is bench.Observer, declared here so these tests do not need
// bench.
type observer interface {
	Attach(writer, reader int) error
	Start() error
	Stop() error
}

// runPair starts a gated writer and reader of mode ("write" or "splice")
// joined by a pipe, attaches obs, opens the gate and waits. Children are
// killed and reaped on every path.
func runPair(t *testing.T, mode string, bytes int64, obs observer) {
	t.Helper()
	var data, gate, ready [2]int
	for _, p := range []*[2]int{&data, &gate, &ready} {
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
	}
	if mode == "splice" {
		unix.FcntlInt(uintptr(data[1]), unix.F_SETPIPE_SZ, 128<<10)
	}
	f := func(fd int) *os.File { return os.NewFile(uintptr(fd), "pipe") }
	gateR, readyW, dataR, dataW := f(gate[0]), f(ready[1]), f(data[0]), f(data[1])
	start := func(role string, cpu int, end *os.File) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+mode+"-"+role,
			"PROFILE_TEST_BYTES="+strconv.FormatInt(bytes, 10), "PROFILE_TEST_CPU="+strconv.Itoa(cpu%runtime.NumCPU()))
		cmd.ExtraFiles = []*os.File{gateR, readyW, end}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	w := start("writer", 0, dataW)
	r := start("reader", 1, dataR)
	for _, f := range []*os.File{gateR, readyW, dataR, dataW} {
		f.Close()
	}
	defer unix.Close(gate[1])
	defer unix.Close(ready[0])
	reap := func() { w.Process.Kill(); r.Process.Kill(); w.Wait(); r.Wait() }
	var b [2]byte
	for got := 0; got < 2; {
		n, err := unix.Read(ready[0], b[:])
		if err != nil || n == 0 {
			reap()
			t.Fatalf("children not ready: %v", err)
		}
		got += n
	}
	if err := obs.Attach(w.Process.Pid, r.Process.Pid); err != nil {
		reap()
		t.Fatalf("Attach: %v", err)
	}
	if err := obs.Start(); err != nil {
		reap()
		obs.Stop()
		t.Fatalf("Start: %v", err)
	}
	unix.Write(gate[1], []byte{1, 1})
	werr, rerr := w.Wait(), r.Wait()
	if err := obs.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if werr != nil || rerr != nil {
		t.Fatalf("children failed: writer %v, reader %v", werr, rerr)
	}
}

// mustHavePerfEvents skips unless cpu-clock sampling with a ring works
// here; with PIPELAB_REQUIRE_PERF=1 it fails instead.
func mustHavePerfEvents(t testing.TB) {
	t.Helper()
	attr := perf.Attr{Type: perf.SoftwareEvent, Config: uint64(perf.CPUClock),
		SampleFormat: perf.SampleFormat{Callchain: true}}
	attr.SetSamplePeriod(1000000)
	ev, err := perf.Open(&attr, 0, perf.AnyCPU, nil)
	if err == nil {
		err = ev.MapRingNumPages(1)
		ev.Close()
	}
	if err == nil {
		return
	}
	if os.Getenv("PIPELAB_REQUIRE_PERF") == "1" {
		t.Fatalf("perf events refused and PIPELAB_REQUIRE_PERF=1: %v", err)
	}
	t.Skipf("perf events refused: %v", err)
}
