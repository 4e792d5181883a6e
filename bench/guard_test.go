package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pipelab/pipelab/internal/testenv"
)

// envHelperCmd, set with envHelper, is the writer command the helper's
// run uses instead of pipelab's writer.
const envHelperCmd = "PIPELAB_TEST_HELPER_CMD"

// daemonCmd is a writer command line that starts, before it writes, a
// sleep in the background of its process group and another in a session
// of its own (setsid), and is sure the latter has left the group before
// it goes on. The setsid one's pid is written to file. Neither holds the
// pipe, as daemons do not (else the reader would wait for them, as it
// would in a shell's pipeline).
func daemonCmd(file, then string) string {
	return fmt.Sprintf(`sleep 1000 >/dev/null 2>&1 & setsid sh -c 'echo $$ >%[1]s.tmp && mv %[1]s.tmp %[1]s && exec sleep 1000' >/dev/null 2>&1 & while [ ! -e %[1]s ]; do sleep 0.01; done; %[2]s`, file, then)
}

// TestCommandLeftOver: what a command leaves running outside its process
// group when the run ends (a setsid daemon) is killed and named in a
// warning; what stays in the group dies with it, unnamed.
func TestCommandLeftOver(t *testing.T) {
	file := filepath.Join(t.TempDir(), "daemon")
	o := command("write", daemonCmd(file, "head -c 16777216 /dev/zero"), "", 64<<20)
	res, err := Run(context.Background(), o, nil, nil)
	noChildren(t)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	pid := readPid(t, file)
	want := fmt.Sprintf("the writer command left process %d (sleep 1000) running outside its process group: killed it", pid)
	if got := texts(res.Warnings); !slices.Contains(got, want) {
		t.Errorf("warnings %q lack %q", got, want)
	}
	checkGone(t, [2]int{pid, pid})
}

// TestCommandParentKilled kills the process that runs a writer command
// with SIGKILL mid-run: nothing it started may stay alive, neither what
// the command's shell forked (no parent-death signal reaches it) nor a
// setsid daemon, which the guard also names on stderr. Orphans come back
// to this test process (a subreaper), so a survivor is seen.
func TestCommandParentKilled(t *testing.T) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	file := filepath.Join(t.TempDir(), "daemon")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envHelper+"=1", envHelperCmd+"="+daemonCmd(file, "exec cat /dev/zero"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || !strings.HasPrefix(line, "pids ") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q (%v), want its children's pids", line, err)
	}
	pid := readPid(t, file) // the daemon runs, so the command does
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Kill()
	cmd.Wait()
	if left := testenv.ReapOrphans(5 * time.Second); len(left) > 0 {
		t.Errorf("processes left running after the runner was killed: %v", left)
	}
	re := regexp.MustCompile(fmt.Sprintf(`(?m)^pipelab: warning: after pipelab was killed, the writer command left process %d \(sleep 1000\) running outside its process group: killed it$`, pid))
	if !re.MatchString(stderr.String()) {
		t.Errorf("stderr does not name the setsid daemon %d:\n%s", pid, stderr.String())
	}
}

// readPid waits up to 10s for file to hold a pid, and returns it.
func readPid(t *testing.T, file string) int {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(file)
		if err == nil {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatalf("%s: %q", file, b)
			}
			return pid
		}
	}
	t.Fatalf("no %s after 10s: the command did not start its daemon", file)
	return 0
}
