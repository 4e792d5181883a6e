package profile_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// perfRecord is a bench.Observer that records a run the way a user would
// cross-check pipelab: `perf record -a -C <pinned CPUs> -F <freq> -g -e
// cpu-clock` (Debian's linux-perf), its events enabled from just before
// the gate opens (Start) until the children have exited (Stop). pipelab
// never runs perf; only this benchmark does.
type perfRecord struct {
	cpus   []int    // the CPUs recorded; none for all
	freqHz int      // -F
	extra  []string // more perf record arguments, such as -m 8M
	dir    string   // perf.data and nothing else
	cmd    *exec.Cmd
	ctl    *os.File // perf's --control command pipe, our end
	ack    *bufio.Reader
	ackF   *os.File
	stderr bytes.Buffer
	pids   []int // the writer's and the reader's

	// switches counts the context switches of perf's own threads while
	// its events were enabled, and enabled is how long that was: perf
	// woken to drain its buffers on the recorded CPUs.
	switches int64
	enabled  time.Duration
	start    time.Time
	// fts is finish_task_switch's inclusive share of each child's
	// samples in perf's recording, writer then reader, in percent; nil
	// when a child took no sample.
	fts []float64
	// keep leaves the recording for stacks to read instead of reading
	// the finish_task_switch shares at Stop.
	keep bool
}

// probePerfRecord says why perf record cannot run here, or nil.
func probePerfRecord() error {
	path, err := exec.LookPath("perf")
	if err != nil {
		return fmt.Errorf("perf not found (apt-get install linux-perf): %w", err)
	}
	out, err := exec.Command(path, "record", "-a", "-C", "0", "-e", "cpu-clock", "-B", "-N", "-q", "-o", "/dev/null", "--", "true").CombinedOutput()
	if err != nil {
		return fmt.Errorf("perf record -a: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// newPerfRecord prepares a recording of cpus at freqHz.
func newPerfRecord(cpus []int, freqHz int, extra ...string) (*perfRecord, error) {
	dir, err := os.MkdirTemp("", "pipelab-perf-")
	if err != nil {
		return nil, err
	}
	return &perfRecord{cpus: cpus, freqHz: freqHz, extra: extra, dir: dir}, nil
}

// Attach starts perf record with its events disabled (-D -1), listening
// for commands on a pipe (--control fd:3,4).
func (r *perfRecord) Attach(writer, reader int) error {
	r.pids = []int{writer, reader}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return err
	}
	ackR, ackW, err := os.Pipe()
	if err != nil {
		ctlR.Close()
		ctlW.Close()
		return err
	}
	args := []string{"record", "-a", "-F", strconv.Itoa(r.freqHz), "-g", "-e", "cpu-clock",
		"-D", "-1", "--control", "fd:3,4", "-B", "-N", "-q", "-o", filepath.Join(r.dir, "perf.data")}
	if len(r.cpus) > 0 {
		var cs []string
		for _, c := range r.cpus {
			cs = append(cs, strconv.Itoa(c))
		}
		args = append(args, "-C", strings.Join(cs, ","))
	}
	r.cmd = exec.Command("perf", append(args, r.extra...)...)
	r.cmd.ExtraFiles = []*os.File{ctlR, ackW}
	r.cmd.Stderr = &r.stderr
	err = r.cmd.Start()
	ctlR.Close()
	ackW.Close()
	if err != nil {
		ctlW.Close()
		ackR.Close()
		r.cmd = nil
		return fmt.Errorf("perf record: %w", err)
	}
	r.ctl, r.ackF, r.ack = ctlW, ackR, bufio.NewReader(ackR)
	return nil
}

// Start enables perf's events and waits for perf to say so.
func (r *perfRecord) Start() error {
	if _, err := io.WriteString(r.ctl, "enable\n"); err != nil {
		return r.fail(fmt.Errorf("perf record: enable: %w", err))
	}
	r.ackF.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := r.ack.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ack" {
		return r.fail(fmt.Errorf("perf record: enable: got %q, %v", line, err))
	}
	r.start = time.Now()
	r.switches = -perfSwitches(r.cmd.Process.Pid)
	return nil
}

// Stop ends the recording (SIGINT, as a user's ^C) and reads the
// children's finish_task_switch shares out of it with perf script.
func (r *perfRecord) Stop() error {
	if r.cmd == nil {
		return nil
	}
	if !r.start.IsZero() {
		r.switches += perfSwitches(r.cmd.Process.Pid)
		r.enabled = time.Since(r.start)
	}
	r.cmd.Process.Signal(syscall.SIGINT)
	err := r.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGINT {
		err = nil // perf writes the recording out, then dies of the signal it caught
	}
	r.ctl.Close()
	r.ackF.Close()
	r.cmd = nil
	if err != nil {
		return fmt.Errorf("perf record: %w: %s", err, bytes.TrimSpace(r.stderr.Bytes()))
	}
	if r.keep {
		return nil
	}
	var shares map[int]float64
	err = r.script([]string{"pid", "ip", "sym"}, func(rd io.Reader) (err error) {
		shares, err = perfScriptShares(rd, "finish_task_switch")
		return err
	})
	if err != nil {
		return err
	}
	for _, pid := range r.pids {
		s, ok := shares[pid]
		if !ok { // a short transfer at a low frequency
			r.fts = nil
			return nil
		}
		r.fts = append(r.fts, 100*s)
	}
	return nil
}

// script runs perf script -F fields on the recording and hands its
// output to parse.
func (r *perfRecord) script(fields []string, parse func(io.Reader) error) error {
	script := exec.Command("perf", "script", "-i", filepath.Join(r.dir, "perf.data"), "-F", strings.Join(fields, ","))
	out, err := script.StdoutPipe()
	if err != nil {
		return err
	}
	var serr bytes.Buffer
	script.Stderr = &serr
	if err := script.Start(); err != nil {
		return fmt.Errorf("perf script: %w", err)
	}
	perr := parse(out)
	io.Copy(io.Discard, out)
	if err := script.Wait(); err != nil {
		return fmt.Errorf("perf script: %w: %s", err, bytes.TrimSpace(serr.Bytes()))
	}
	if perr != nil {
		return fmt.Errorf("perf script: %w", perr)
	}
	return nil
}

// stacks reads the kernel stacks of a recording kept at Stop (keep).
func (r *perfRecord) stacks() ([]stackSample, error) {
	var ss []stackSample
	err := r.script([]string{"tid", "cpu", "time", "ip", "sym", "dso"}, func(rd io.Reader) (err error) {
		ss, err = parsePerfStacks(rd)
		return err
	})
	return ss, err
}

// fail kills perf after a failed command; Stop reaps it.
func (r *perfRecord) fail(err error) error {
	r.cmd.Process.Kill()
	return err
}

// close removes the recording.
func (r *perfRecord) close() { os.RemoveAll(r.dir) }

// perfSwitches sums the context switches, voluntary and not, of every
// thread of pid (0 when it has gone).
func perfSwitches(pid int) int64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	var n int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && (k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches") {
				c, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += c
			}
		}
	}
	return n
}

// perfScriptShares reads `perf script -F pid,ip,sym` output of a
// recording with callchains (one block per sample: a line with the pid,
// or pid/tid, then one line per frame, a tab, the address and the symbol,
// then a blank line) and returns, per pid, the share of its samples whose
// stack holds fn or fn with a compiler suffix (fn.isra.0).
func perfScriptShares(rd io.Reader, fn string) (map[int]float64, error) {
	all, hit := map[int]int{}, map[int]int{}
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	pid, in := 0, false // the current sample's pid; whether fn was seen in it
	end := func() {
		if in {
			hit[pid]++
		}
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			continue
		case line[0] != '\t': // a sample's pid line; perf right-aligns it
			end()
			f := strings.Fields(line)
			p, _, _ := strings.Cut(f[0], "/")
			n, err := strconv.Atoi(p)
			if err != nil {
				return nil, fmt.Errorf("sample line %q: no pid", line)
			}
			pid, in = n, false
			all[pid]++
		default:
			f := strings.Fields(line)
			if len(f) >= 2 && (f[1] == fn || strings.HasPrefix(f[1], fn+".")) {
				in = true
			}
		}
	}
	end()
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, errors.New("no samples")
	}
	shares := map[int]float64{}
	for p, n := range all {
		shares[p] = float64(hit[p]) / float64(n)
	}
	return shares, nil
}
