package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Other pipelab runs on the same CPUs. Two runs whose children are pinned
// to the same CPUs take turns on them, and each measures less than the
// machine gives either alone (two ladders at once: vmsplice 2.50 against
// 4.22 GiB/s alone). Run tells its caller about every such run it saw.
//
// While Run runs, it holds a beacon: an abstract Unix socket (no file to
// clean up; it is gone with the process however that ends) whose name
// says the process and the CPUs its transfers use. At the start and at
// the end of each transfer, Run reads the beacons of the others from
// /proc/net/unix. A run that starts and ends within one transfer of
// another is missed, and so is one in another network namespace.

// SharedRun is another pipelab process that ran transfers on some of the
// CPUs of a Run while it ran.
type SharedRun struct {
	// PID is the other process's pid; Command its command line.
	PID     int
	Command string
	// CPUs are the CPUs its transfers use.
	CPUs []int
}

// beaconPrefix starts the name of every beacon: "pipelab-run/PID/SERIAL/CPUS"
// with CPUS comma-separated.
const beaconPrefix = "pipelab-run/"

// beaconSerial tells apart the beacons of one process (Runs at once in
// tests).
var beaconSerial atomic.Int64

// beacon is a Run's announcement of its CPUs to other pipelab processes.
type beacon struct {
	fd   int
	name string
	cpus []int
}

// raiseBeacon announces that this process runs transfers on cpus, until
// close. It returns nil when the socket cannot be made: the run goes on,
// blind to others.
func raiseBeacon(cpus []int) *beacon {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	name := fmt.Sprintf("%s%d/%d/%s", beaconPrefix, os.Getpid(), beaconSerial.Add(1), cpuText(cpus))
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: "@" + name}); err != nil {
		unix.Close(fd)
		return nil
	}
	return &beacon{fd: fd, name: name, cpus: cpus}
}

func (b *beacon) close() {
	if b != nil {
		unix.Close(b.fd)
	}
}

// others lists the other beacons whose CPUs overlap b's.
func (b *beacon) others() []SharedRun {
	if b == nil {
		return nil
	}
	data, err := os.ReadFile("/proc/net/unix")
	if err != nil {
		return nil
	}
	var runs []SharedRun
	for _, name := range beaconNames(data) {
		r, ok := parseBeacon(name)
		if !ok || name == b.name || !overlap(r.CPUs, b.cpus) {
			continue
		}
		r.Command = cmdline(r.PID)
		runs = append(runs, r)
	}
	return runs
}

// beaconNames returns the names of the abstract sockets in the text of
// /proc/net/unix whose name starts with beaconPrefix. The path is the
// last column; the kernel shows an abstract name with '@' first.
func beaconNames(data []byte) []string {
	var names []string
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 8 {
			continue
		}
		if name, ok := strings.CutPrefix(f[len(f)-1], "@"); ok && strings.HasPrefix(name, beaconPrefix) {
			names = append(names, name)
		}
	}
	return names
}

// parseBeacon reads PID and CPUs from a beacon's name.
func parseBeacon(name string) (SharedRun, bool) {
	f := strings.Split(strings.TrimPrefix(name, beaconPrefix), "/")
	if len(f) != 3 {
		return SharedRun{}, false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return SharedRun{}, false
	}
	var cpus []int
	for _, c := range strings.Split(f[2], ",") {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return SharedRun{}, false
		}
		cpus = append(cpus, n)
	}
	return SharedRun{PID: pid, CPUs: cpus}, true
}

// runCPUs are the CPUs o's transfers use: the two it pins to, or every
// CPU this process may run on when a side is unpinned.
func runCPUs(o Options) []int {
	if o.PinWriter < 0 || o.PinReader < 0 {
		cpus, _ := AllowedCPUs()
		return cpus
	}
	cpus := []int{o.PinWriter}
	if o.PinReader != o.PinWriter {
		cpus = append(cpus, o.PinReader)
	}
	slices.Sort(cpus)
	return cpus
}

func overlap(a, b []int) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// cpuText is a CPU list as "0,1".
func cpuText(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// addShared adds the runs of more that list does not hold yet (by pid).
func addShared(list []SharedRun, more []SharedRun) []SharedRun {
	for _, r := range more {
		if !slices.ContainsFunc(list, func(x SharedRun) bool { return x.PID == r.PID }) {
			list = append(list, r)
		}
	}
	return list
}
