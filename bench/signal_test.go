package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipelab/pipelab/internal/testenv"
)

// envHelper makes the test binary act as a program that calls Run (see
// TestMain), so that a test can signal it as a user would.
const envHelper = "PIPELAB_TEST_HELPER"

// helperReport is what the helper prints once Run has returned.
type helperReport struct {
	Err         string
	Interrupted bool
	Incomplete  bool
	Runs        int
	Kids        []int // children of the helper left after Run
}

// runHelper is the helper program: an endless write run (with
// envHelperCmd as its writer command, if set) under
// signal.NotifyContext, as cmd/pipelab does it. It prints "pids W R" once
// the children are gated and a JSON helperReport at the end.
func runHelper() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	obs := &observer{attach: func(w, r int) error {
		fmt.Printf("pids %d %d\n", w, r)
		return nil
	}}
	o := one("write")
	o.Bytes = 1 << 40
	o.WriterCmd = os.Getenv(envHelperCmd)
	res, err := Run(ctx, o, obs, nil)
	rep := helperReport{Kids: testenv.Children(os.Getpid())}
	if err != nil {
		rep.Err = err.Error()
	}
	if res != nil {
		rep.Interrupted, rep.Incomplete, rep.Runs = res.Interrupted, res.Incomplete, len(res.Runs)
	}
	json.NewEncoder(os.Stdout).Encode(rep)
}

// startHelper starts the helper in a process group of its own and returns
// it with the pids of its writer and reader.
func startHelper(t *testing.T) (*exec.Cmd, *bufio.Reader, [2]int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envHelper+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	br := bufio.NewReader(out)
	line, err := br.ReadString('\n')
	var pids [2]int
	if _, serr := fmt.Sscanf(line, "pids %d %d", &pids[0], &pids[1]); err != nil || serr != nil {
		t.Fatalf("helper said %q (%v, %v), want its children's pids", line, err, serr)
	}
	time.Sleep(300 * time.Millisecond) // bytes are moving
	return cmd, br, pids
}

// TestCtrlC sends SIGINT or SIGTERM to the helper's whole process group,
// as a terminal's Ctrl-C does: the children must not die of it on their
// own (which would look like a child failure); Run must stop them, report
// an interrupt, and leave no child.
func TestCtrlC(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, out, pids := startHelper(t)
			if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil {
				t.Fatalf("kill process group: %v", err)
			}
			var rep helperReport
			if err := json.NewDecoder(out).Decode(&rep); err != nil {
				t.Fatalf("helper report: %v", err)
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("helper: %v", err)
			}
			if !rep.Interrupted || rep.Incomplete || !strings.Contains(rep.Err, ErrInterrupted.Error()) {
				t.Errorf("after %v to the group: error %q, Interrupted %v, Incomplete %v; want an interrupt, not a child failure",
					sig, rep.Err, rep.Interrupted, rep.Incomplete)
			}
			if len(rep.Kids) > 0 {
				t.Errorf("children left after Run: %v", rep.Kids)
			}
			checkGone(t, pids)
		})
	}
}

// TestParentKilled kills the process that called Run with SIGKILL, so Run
// has no chance to clean up: the children must die too (PR_SET_PDEATHSIG)
// rather than pipe on as orphans.
func TestParentKilled(t *testing.T) {
	cmd, _, pids := startHelper(t)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	checkGone(t, pids)
}

// checkGone waits up to 5s for pids to be gone or dead (a zombie waiting
// for its new parent).
func checkGone(t *testing.T, pids [2]int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for {
			state, err := procState(pid)
			if errors.Is(err, os.ErrNotExist) || state == "Z" || state == "X" {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("child %d still alive (state %s)", pid, state)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// procState returns the state letter of /proc/PID/stat.
func procState(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) == 0 {
		return "", fmt.Errorf("short stat %q", b)
	}
	return f[0], nil
}
