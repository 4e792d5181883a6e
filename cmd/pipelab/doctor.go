package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/gup"
	"github.com/pipelab/pipelab/internal/emulation"
	"github.com/pipelab/pipelab/profile"
	"github.com/pipelab/pipelab/result"
)

// Check statuses, from best to worst.
const (
	statusOK      = "OK"
	statusLimited = "LIMITED"
	statusNo      = "NO"
)

// check is one line of `pipelab doctor`.
type check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Remedy string `json:"remedy,omitempty"`
	// Fatal marks a check whose NO means profile cannot work at all.
	Fatal bool `json:"-"`
	// Optional marks a check of a feature profile does not need (pipelab
	// gup): it does not count towards doctor's exit status.
	Optional bool `json:"optional,omitempty"`
}

func cmdDoctor(ctx context.Context, env *cli, args []string) error {
	asJSON, mount := false, false
	fs := newFlagSet("doctor", "[--json] [--mount-tracefs]",
		"Say what this machine allows pipelab to do, one line per fact, each OK, LIMITED or NO with the\n"+
			"remedy. Exit status 0 when profile can work fully, 1 when limited, 2 when it cannot work.")
	fs.BoolVar(&asJSON, "json", false, "print the checks as JSON")
	fs.BoolVar(&mount, "mount-tracefs", false, "mount tracefs at "+profile.TracefsMountPoint+" if it is not mounted (root), so --view wall records who woke whom")
	if err := fs.parse(env, args); err != nil {
		return err
	}
	if err := checkArgs(fs); err != nil {
		return err
	}
	mounted := false
	if mount {
		var err error
		if mounted, err = mountTracefs(); err != nil {
			return err
		}
	}
	checks := runChecks(mounted)
	var err error
	if asJSON {
		err = writeChecksJSON(env.stdout, checks)
	} else {
		err = writeChecksText(env.stdout, checks)
	}
	if err != nil {
		return err
	}
	return &statusError{code: doctorStatus(checks)}
}

// doctorStatus is 2 when a fatal check failed, 1 when anything is limited
// or missing, 0 otherwise.
func doctorStatus(checks []check) int {
	code := exitOK
	for _, c := range checks {
		switch {
		case c.Status == statusNo && c.Fatal:
			return exitUsage
		case c.Optional:
		case c.Status != statusOK:
			code = exitFailed
		}
	}
	return code
}

func runChecks(mounted bool) []check {
	// One probe serves both lines: it samples for 50ms.
	callchainErr := profile.ProbeKernelCallchain()
	return []check{
		checkKernel(),
		checkPerfEvents(callchainErr),
		checkKernelCallchains(callchainErr),
		checkKallsyms(),
		checkWallView(),
		checkTracefs(mounted),
		checkPMU(),
		checkTHP(),
		checkPipeMaxSize(),
		checkCPUs(),
		checkEmulation(),
		checkIdle(),
		checkSymbols(),
		checkGUP(),
	}
}

// checkGUP says whether pipelab gup can run the kernel's
// get_user_pages_fast benchmark.
func checkGUP() check {
	c := check{Name: "gup_test", Optional: true}
	err := gup.Probe()
	if err == nil {
		c.Status, c.Detail = statusOK, gup.Path+" opens: pipelab gup times get_user_pages_fast with the kernel's own benchmark"
		return c
	}
	c.Status, c.Detail = statusLimited, err.Error()+"; pipelab gup cannot run (profile and ladder are unaffected)"
	c.Remedy = "a kernel built with CONFIG_GUP_TEST=y and debugfs mounted (mount -t debugfs none /sys/kernel/debug); meanwhile report.md and pipelab profile give get_user_pages_fast's time per page from the samples"
	return c
}

func checkKernel() check {
	rel := profile.KernelRelease()
	c := check{Name: "kernel", Status: statusOK, Detail: "Linux " + rel}
	if rel == "" {
		c.Status, c.Detail = statusLimited, "uname failed"
	}
	return c
}

// checkEmulation says whether the CPU is emulated (QEMU's TCG), where
// every figure runs at the emulator's pace, not the hardware's.
func checkEmulation() check {
	c := check{Name: "emulation"}
	cpu := emulation.Detect()
	if cpu.Emulated() {
		c.Status, c.Detail = statusLimited, result.EmulationNote(cpu.Emulator)+" ("+cpu.Evidence+"); functional checks are right, throughput and times are the emulator's"
		c.Remedy = "for timings, run on hardware or in a hardware-virtualized guest (QEMU with -accel kvm)"
		return c
	}
	c.Status, c.Detail = statusOK, "not an emulated CPU: "+cpu.Evidence
	return c
}

// checkPerfEvents judges perf_event_open from err, what
// profile.ProbeKernelCallchain returned.
func checkPerfEvents(err error) check {
	c := check{Name: "perf_event_open", Fatal: true}
	paranoid, perr := profile.Paranoid()
	if perr != nil {
		c.Status, c.Detail = statusNo, "no /proc/sys/kernel/perf_event_paranoid: "+perr.Error()
		c.Remedy = "use a kernel built with CONFIG_PERF_EVENTS=y"
		return c
	}
	if err != nil && !errors.Is(err, profile.ErrNotSupported) {
		c.Remedy = "run as root, or sysctl kernel.perf_event_paranoid=1, or grant CAP_PERFMON"
		if uerr := profile.ProbeUserSampling(); uerr == nil {
			c.Status, c.Detail = statusLimited, fmt.Sprintf("perf_event_paranoid=%d: kernel side refused, profile samples user space only", paranoid)
			return c
		}
		c.Status, c.Detail = statusNo, fmt.Sprintf("perf_event_paranoid=%d: %v", paranoid, err)
		return c
	}
	c.Status, c.Detail = statusOK, fmt.Sprintf("perf_event_paranoid=%d, software events open", paranoid)
	if os.Geteuid() == 0 {
		c.Detail += " (as root)"
	}
	return c
}

// checkKernelCallchains judges kernel callchains from err, what
// profile.ProbeKernelCallchain returned.
func checkKernelCallchains(err error) check {
	c := check{Name: "kernel callchains"}
	if err != nil {
		c.Status, c.Detail = statusLimited, err.Error()+"; profiles get user stacks only"
		c.Remedy = "run as root or sysctl kernel.perf_event_paranoid=1"
		return c
	}
	c.Status, c.Detail = statusOK, "cpu-clock samples carry kernel frames"
	return c
}

func checkWallView() check {
	c := check{Name: "wall view"}
	if err := profile.ProbeContextSwitches(); err != nil {
		c.Status, c.Detail = statusLimited, err.Error()+"; --view wall falls back to the cpu view"
		c.Remedy = "run as root, or sysctl kernel.perf_event_paranoid=1, or grant CAP_PERFMON"
		return c
	}
	c.Status, c.Detail = statusOK, "context-switch events with kernel callchains open: --view wall works"
	return c
}

func checkKallsyms() check {
	c := check{Name: "kernel symbols"}
	kptr, _ := profile.KptrRestrict()
	k, err := profile.LoadKallsyms()
	switch {
	case errors.Is(err, profile.ErrRestrictedKernel):
		paranoid, _ := profile.Paranoid()
		c.Status, c.Detail = statusLimited, fmt.Sprintf("/proc/kallsyms shows this user zero addresses (kptr_restrict=%d, perf_event_paranoid=%d); kernel frames stay addresses", kptr, paranoid)
		c.Remedy = "run as root, or sysctl kernel.kptr_restrict=0 with kernel.perf_event_paranoid=1 or lower"
	case err != nil:
		c.Status, c.Detail = statusLimited, err.Error()
		c.Remedy = "mount /proc and run as root"
	default:
		c.Status, c.Detail = statusOK, fmt.Sprintf("kptr_restrict=%d, %d text symbols in /proc/kallsyms", kptr, k.Len())
	}
	return c
}

// probePMU and probeHardware are profile's probes; variables so that
// tests can give doctor any PMU.
var (
	probePMU      = profile.ProbePMU
	probeHardware = profile.ProbeHardware
)

// checkPMU says what the hardware counters allow: nothing (software
// events only), counting without sampling, or both.
func checkPMU() check {
	c := check{Name: "hardware counters"}
	state, err := probePMU()
	if state == profile.PMUNone {
		c.Status = statusLimited
		c.Detail = "software events only, no hardware PMU: cycles, instructions, cache-misses, dTLB-load-misses are reported as not supported"
		if !errors.Is(err, profile.ErrNotSupported) {
			c.Detail = "cycles does not open (" + err.Error() + "): hardware counters are reported as not supported"
		}
		c.Remedy = "run on bare metal or a VM with a virtual PMU (e.g. KVM -cpu host,pmu=on)"
		return c
	}
	counted := countedHardware()
	if state == profile.PMUCounts {
		c.Status = statusLimited
		c.Detail = "counts but cannot sample: sampling cycles fails (" + err.Error() + "), so profile samples cpu-clock; " + counted
		c.Remedy = "sampling cycles needs a PMU with an overflow interrupt (bare metal, or a VM whose virtual PMU has one); meanwhile cpu-clock samples and the counters work"
		return c
	}
	c.Status, c.Detail = statusOK, "cycles counts and samples (profile samples cycles); "+counted
	return c
}

// countedHardware lists the hardware counters that open and those that
// do not: "counts cycles, instructions; not counted by this PMU:
// cache-misses".
func countedHardware() string {
	var yes, no []string
	for _, p := range probeHardware() {
		if p.Err == nil {
			yes = append(yes, p.Name)
		} else {
			no = append(no, p.Name)
		}
	}
	s := "counts " + strings.Join(yes, ", ")
	if len(no) > 0 {
		s += "; not counted by this PMU: " + strings.Join(no, ", ")
	}
	return s
}

func checkTHP() check {
	c := check{Name: "transparent huge pages"}
	mode, err := bench.THPMode()
	if err != nil {
		c.Status, c.Detail = statusNo, err.Error()+"; modes write-huge, vmsplice-huge, huge, busy cannot run"
		c.Remedy = "use a kernel with CONFIG_TRANSPARENT_HUGEPAGE=y"
		return c
	}
	if err := bench.ProbeHugePage(); err != nil {
		if errors.Is(err, os.ErrPermission) {
			c.Status, c.Detail = statusLimited, fmt.Sprintf("mode %s; cannot check that a madvised buffer gets a huge page as this user (%v), so --check-huge fails here", mode, err)
			c.Remedy = "run as root to read /proc/kpageflags"
			return c
		}
		c.Status, c.Detail = statusNo, fmt.Sprintf("mode %s, but a madvised buffer got no huge page: %v", mode, err)
		c.Remedy = "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (or boot with transparent_hugepage=madvise)"
		return c
	}
	c.Status, c.Detail = statusOK, "mode "+mode+", a madvised 2MiB buffer is a huge page"
	return c
}

func checkPipeMaxSize() check {
	c := check{Name: "pipe-max-size"}
	n, err := bench.PipeMaxSize()
	if err != nil {
		c.Status, c.Detail = statusLimited, err.Error()
		return c
	}
	c.Status, c.Detail = statusOK, fmt.Sprintf("%s (fs.pipe-max-size): --pipe-size up to that", bench.FormatSize(int64(n)))
	if n < 128<<10 {
		c.Status = statusLimited
		c.Detail += "; the post's 128KiB vmsplice pipe does not fit"
		c.Remedy = "sysctl fs.pipe-max-size=1048576"
	}
	return c
}

func checkCPUs() check {
	c := check{Name: "CPUs for pinning"}
	cpus, err := bench.AllowedCPUs()
	if err != nil {
		c.Status, c.Detail = statusLimited, err.Error()
		return c
	}
	list := make([]string, len(cpus))
	for i, n := range cpus {
		list[i] = fmt.Sprint(n)
	}
	c.Status, c.Detail = statusOK, fmt.Sprintf("%d usable (%s): writer and reader pinned apart, --pin %d,%d", len(cpus), strings.Join(list, ","), cpus[0], cpus[len(cpus)-1])
	if len(cpus) < 2 {
		c.Status = statusLimited
		c.Detail = fmt.Sprintf("only CPU %s usable: writer and reader share it", list[0])
		c.Remedy = "give pipelab two CPUs (taskset, cgroup cpuset)"
	}
	return c
}

func writeChecksText(w io.Writer, checks []check) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Status, c.Name, c.Detail)
		if c.Remedy != "" {
			fmt.Fprintf(tw, "\t\t  remedy: %s\n", c.Remedy)
		}
	}
	return tw.Flush()
}

func writeChecksJSON(w io.Writer, checks []check) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Checks []check `json:"checks"`
		Exit   int     `json:"exit_status"`
	}{checks, doctorStatus(checks)})
}

// checkSymbols says which of the post's kernel symbols this kernel has, and
// under which name.
func checkSymbols() check {
	c := check{Name: "post's kernel symbols"}
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		c.Status, c.Detail = statusLimited, err.Error()
		return c
	}
	defer f.Close()
	st, err := attribute.ResolveAliases(f, profile.KernelRelease())
	if err != nil {
		c.Status, c.Detail = statusLimited, "read /proc/kallsyms: "+err.Error()
		return c
	}
	var found, missing []string
	for _, a := range st {
		switch {
		case len(a.Found) == 0:
			missing = append(missing, a.Post)
		case len(a.Found) == 1 && a.Found[0] == a.Post:
			found = append(found, a.Post)
		default:
			found = append(found, a.Post+" as "+strings.Join(a.Found, "/"))
		}
	}
	c.Status = statusOK
	c.Detail = fmt.Sprintf("%d of %d found: %s", len(found), len(st), strings.Join(found, ", "))
	if len(missing) > 0 {
		c.Detail += "; not in this kernel (inlined or gone): " + strings.Join(missing, ", ")
	}
	return c
}
