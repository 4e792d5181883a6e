package result

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Step is one mode's result: one object of `pipelab run --json`, and the
// file OUT/MODE.json written by `pipelab profile` and `pipelab ladder`
// (StepFile).
type Step struct {
	// Version is the exchange format's version (FormatVersion when
	// written by this pipelab); 0, a file from before the field, reads as
	// version 1.
	Version int `json:"version,omitempty"`
	// Settings are how the step ran; they read and write as fields of the
	// step's own JSON object.
	Settings
	// Runs holds the throughput of each run in GiB/s (GiB = 2^30 bytes)
	// that finished with a known throughput.
	Runs []float64 `json:"runs"`
	// MedianGiBs, MinGiBs and MaxGiBs summarize Runs; with no runs the
	// throughput is unknown, and they are zero (null in the JSON).
	MedianGiBs GiBs `json:"median_gib_s"`
	MinGiBs    GiBs `json:"min_gib_s"`
	MaxGiBs    GiBs `json:"max_gib_s"`

	// CorruptOffsets holds, for each run whose reader found wrong bytes
	// under --verify, the stream offset of the first wrong byte.
	CorruptOffsets []int64 `json:"corrupt_offsets,omitempty"`

	// View is the profile view that ran: "cpu" or "wall"; empty when not
	// profiled.
	View string `json:"view,omitempty"`
	// Event is the sampled event, "cycles" or "cpu-clock" (empty in files
	// from before the field: cpu-clock); EventReason says why cpu-clock
	// was taken when the user left the choice to pipelab.
	Event       string `json:"event,omitempty"`
	EventReason string `json:"event_reason,omitempty"`
	// ThroughputFrom says which transfers Runs measured: FromUnprofiled,
	// FromProfiled or FromProfiledStopped; empty for pipelab run, where
	// nothing is profiled.
	ThroughputFrom string `json:"throughput_from,omitempty"`
	// Cost is what profiling cost the step (the JSON key is "observer");
	// nil without a baseline.
	Cost *Cost `json:"observer,omitempty"`
	// Roles holds one summary per profiled role; empty when not profiled.
	Roles []RoleSummary `json:"roles,omitempty"`
	// Warnings are non-fatal problems (lost samples, too few runs, ...).
	Warnings []string `json:"warnings,omitempty"`
	// Incomplete marks a step whose writer or reader failed part way.
	Incomplete bool `json:"incomplete,omitempty"`
	// Interrupted marks a step stopped by SIGINT or SIGTERM.
	Interrupted bool `json:"interrupted,omitempty"`
	// Env is the machine the step ran on, recorded by pipelab profile (a
	// ladder's steps carry it too); nil in files from before version 2.
	Env *Env `json:"env,omitempty"`
	// Commands says how each external command ended, per run, writer
	// first.
	Commands []CommandStatus `json:"commands,omitempty"`
	// Shared lists other pipelab processes seen running transfers on
	// some of the step's CPUs while it ran: its figures are then lower
	// than the machine gives one run alone.
	Shared []SharedRun `json:"shared_cpus,omitempty"`
}

// SharedRun is another pipelab process that ran transfers on some of a
// step's CPUs while the step ran.
type SharedRun struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
	// CPUs are the CPUs its transfers used.
	CPUs []int `json:"cpus"`
}

// String says it in one line: "another pipelab (pid 4242: pipelab ladder)
// ran transfers on CPUs 0,1 at the same time: ...".
func (r SharedRun) String() string {
	cpus := make([]string, len(r.CPUs))
	for i, c := range r.CPUs {
		cpus[i] = fmt.Sprint(c)
	}
	return fmt.Sprintf("another pipelab (pid %d: %s) ran transfers on CPUs %s at the same time: both measured less than the machine gives one run alone (run one at a time)",
		r.PID, r.Command, strings.Join(cpus, ","))
}

// GiBs is a throughput in GiB/s (GiB = 2^30 bytes). Zero is no figure: a
// throughput nobody measured (no run finished, or none could count its
// bytes), as a run that moved nothing fails rather than measure 0. It is
// null in the JSON, so that no number stands for it, and null reads back
// as zero.
type GiBs float64

// MarshalJSON writes g as a JSON number, or null when it is zero.
func (g GiBs) MarshalJSON() ([]byte, error) {
	if g == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(float64(g))
}

// Settings are the knobs one step ran with, as the children ran them: the
// mode, the sizes and every flag of the post's write.cpp and read.cpp.
// cmd/pipelab fills them from bench.Options in one place; a new knob is a
// field here and a line there.
type Settings struct {
	// Mode names the strategy (write, vmsplice, splice, huge, busy, ...).
	Mode string `json:"mode"`
	// Bytes is how many bytes each run moved through the pipe.
	Bytes int64 `json:"bytes"`
	// BufSize is the writer's buffer size in bytes.
	BufSize int64 `json:"buf_size"`
	// PipeSize is the pipe's size in bytes (F_GETPIPE_SZ after setting it).
	PipeSize int64 `json:"pipe_size"`
	// The knobs of the post's write.cpp and read.cpp.
	Busy           bool `json:"busy"`
	Poll           bool `json:"poll"`
	Huge           bool `json:"huge"`
	CheckHuge      bool `json:"check_huge"`
	Gift           bool `json:"gift"`
	LockMemory     bool `json:"lock_memory"`
	DontTouchPages bool `json:"dont_touch_pages"`
	SameBuffer     bool `json:"same_buffer"`
	// BufOffset is how many bytes past a page boundary the buffers
	// started: 16 by default for small pages (where the post's malloc puts
	// them), 0 for huge pages.
	BufOffset int `json:"buf_offset"`
	// PinWriter and PinReader are the CPUs of the children; -1 is unpinned.
	PinWriter int  `json:"pin_writer"`
	PinReader int  `json:"pin_reader"`
	Repeat    int  `json:"repeat"`
	Verify    bool `json:"verify"`
	// RewriteAfterSplice is the vmsplice-reuse experiment: the writer
	// rewrites a half-buffer as soon as vmsplice returns.
	RewriteAfterSplice bool `json:"rewrite_after_splice,omitempty"`
	// Consume is set when the reader used every byte it took (--consume):
	// it summed them, and a splice reader read(2) them first.
	Consume bool `json:"consume,omitempty"`
	// RingSize is the size in bytes of the ring of modes ring and
	// ring-busy (--ring-size, or its default); 0 for the other modes.
	RingSize int64 `json:"ring_size,omitempty"`
	// Streaming is set when the ring's writer stored into the ring with
	// non-temporal stores (--streaming).
	Streaming bool `json:"streaming,omitempty"`
	// Transport is what joined the writer and the reader: "pipe",
	// "socket", "ring" or "memory" (the copy modes: no transport); empty
	// in files from before the field, which are all pipe steps.
	Transport string `json:"transport,omitempty"`
	// Ceiling names the limit the step measured (Ceilings): "copy" or
	// "ring"; empty for every other step.
	Ceiling string `json:"ceiling,omitempty"`
	// KeepCPUsAwake is set when a PM QoS request kept every CPU out of
	// idle states while the transfers ran (--keep-cpus-awake).
	KeepCPUsAwake bool `json:"keep_cpus_awake,omitempty"`
	// Strategy is the mode of pipelab's own side when Mode is a label of
	// the user's (--name) or a command takes a side; empty otherwise.
	Strategy string `json:"strategy,omitempty"`
	// WriterCmd and ReaderCmd are the external commands that took the
	// writer's or the reader's side (--writer-cmd, --reader-cmd).
	WriterCmd string `json:"writer_cmd,omitempty"`
	ReaderCmd string `json:"reader_cmd,omitempty"`
}

// CommandStatus is how one external command ended in one run.
type CommandStatus struct {
	// Run counts from 1.
	Run     int    `json:"run"`
	Role    string `json:"role"`
	Command string `json:"command"`
	PID     int    `json:"pid"`
	// ExitStatus is -1 when a signal killed the command; Signal names it.
	ExitStatus int    `json:"exit_status"`
	Signal     string `json:"signal,omitempty"`
	// Status is the whole ending in words, e.g. "killed by SIGPIPE after
	// the reader closed the pipe".
	Status string `json:"status"`
	// Stderr and Stdout (a reader command's) are their first 4KiB.
	Stderr string `json:"stderr,omitempty"`
	Stdout string `json:"stdout,omitempty"`
	// ReadBytes and WrittenBytes are rchar and wchar of /proc/PID/io of
	// the command's process tree (read/write/sendfile family syscalls on
	// any file; splice and vmsplice are not accounted), -1 when unknown.
	ReadBytes    int64 `json:"read_bytes"`
	WrittenBytes int64 `json:"written_bytes"`
}

// SampledEvent is the step's sampled event, cpu-clock for files from
// before the field.
func (s *Step) SampledEvent() string {
	if s.Event == "" {
		return "cpu-clock"
	}
	return s.Event
}

// RoleSummary is what profiling saw of one role (writer or reader).
type RoleSummary struct {
	// Role is "writer" or "reader".
	Role string `json:"role"`
	// PIDs are the process ids the role ran as, one per run.
	PIDs []int `json:"pids,omitempty"`
	// Samples is how many stack samples were recorded; Lost how many the
	// kernel dropped (PERF_RECORD_LOST, PERF_RECORD_LOST_SAMPLES).
	Samples uint64 `json:"samples"`
	Lost    uint64 `json:"lost"`
	// Counters holds the perf_event_open counters of the role, summed
	// over CountedRuns transfers: in the cpu view transfers of their own
	// (the counters never ride on a sampled transfer), in the wall view the
	// profiled ones.
	Counters    []Counter `json:"counters,omitempty"`
	CountedRuns int       `json:"counted_runs,omitempty"`
	// Profile is the file name, inside the result folder, of the role's
	// pprof profile (MODE.ROLE.pb.gz).
	Profile string `json:"profile,omitempty"`

	// The wall view (--view wall) only; zero otherwise.

	// WallProfile is the file name of the role's wall profile
	// (MODE.ROLE.wall.pb.gz): cpu/nanoseconds from cpu-clock samples plus
	// offcpu/nanoseconds, the stacks at switch-out weighted by the time
	// asleep.
	WallProfile string `json:"wall_profile,omitempty"`
	// WallNanos is the role's wall time over the transfers, in
	// nanoseconds; OnCPUNanos and OffCPUNanos split it.
	WallNanos   int64 `json:"wall_ns,omitempty"`
	OnCPUNanos  int64 `json:"on_cpu_ns,omitempty"`
	OffCPUNanos int64 `json:"off_cpu_ns,omitempty"`
	// PreemptedNanos is the part of OffCPUNanos after involuntary
	// switch-outs: the role was runnable and waited for a CPU.
	PreemptedNanos int64 `json:"preempted_ns,omitempty"`
	// Switches is how many times the role was switched out; Wakeups how
	// many of those were sleeps it was woken from (voluntary switches).
	Switches uint64 `json:"switches,omitempty"`
	Wakeups  uint64 `json:"wakeups,omitempty"`
	// WakersProfile is the file name of the role's wakers profile
	// (MODE.ROLE.wakers.pb.gz) and Wake what the wake-ups showed; both
	// empty when the wake-ups were not recorded.
	WakersProfile string       `json:"wakers_profile,omitempty"`
	Wake          *WakeSummary `json:"wake,omitempty"`
}

// Counter is one perf_event_open counter of one role.
type Counter struct {
	// Name is the event's name, e.g. "context-switches" or "cycles".
	Name string `json:"name"`
	// Supported is false when the event cannot be opened on this machine
	// (e.g. hardware events without a PMU); the other fields are zero then.
	Supported bool `json:"supported"`
	// Value is Raw scaled by EnabledNanos / RunningNanos.
	Value float64 `json:"value"`
	// Raw is the count as read from the kernel.
	Raw uint64 `json:"raw"`
	// EnabledNanos and RunningNanos are the event's time_enabled and
	// time_running (read_format of <linux/perf_event.h>), in nanoseconds.
	EnabledNanos int64 `json:"enabled_ns"`
	RunningNanos int64 `json:"running_ns"`
	// PerByte is Value over the bytes the counted transfers moved
	// (cycles per byte, instructions per byte); 0 when not counted or
	// when what they moved is not known.
	PerByte float64 `json:"per_byte,omitempty"`
}

// SetPerByte fills each supported counter's PerByte from bytesPerRun,
// what each of the role's CountedRuns transfers moved.
func (r *RoleSummary) SetPerByte(bytesPerRun int64) {
	moved := float64(bytesPerRun) * float64(r.CountedRuns)
	if moved <= 0 {
		return
	}
	for i := range r.Counters {
		if c := &r.Counters[i]; c.Supported {
			c.PerByte = c.Value / moved
		}
	}
}

// WakeSummary is how a role's sleeps ended, from the wall view's
// wake-up recording (sched:sched_waking): OffCPUNanos = WaitingNanos +
// WakeupNanos + PreemptedNanos.
type WakeSummary struct {
	// WaitingNanos is the time asleep until the wake-up; WakeupNanos the
	// wake-up latency, from the wake-up until the role ran again.
	WaitingNanos int64 `json:"waiting_ns"`
	WakeupNanos  int64 `json:"wakeup_ns"`
	// Sleeps counts the sleeps with a recorded wake-up; the latency's
	// median, p90 and p99 are over them.
	Sleeps             int   `json:"sleeps_with_wakeup"`
	LatencyMedianNanos int64 `json:"latency_median_ns"`
	LatencyP90Nanos    int64 `json:"latency_p90_ns"`
	LatencyP99Nanos    int64 `json:"latency_p99_ns"`
	// Wakers share out the sleeps by who ended them, most sleep first.
	Wakers []WakerShare `json:"wakers,omitempty"`
	// Lost is how many wake-up records the kernel dropped.
	Lost uint64 `json:"lost,omitempty"`
}

// WakerShare is the part of a role's sleeps one waker ended.
type WakerShare struct {
	// Waker is "writer", "reader", "interrupt", "other task" or "not
	// recorded".
	Waker string `json:"waker"`
	// Sleeps counts the sleeps it ended, SleepNanos their length and
	// WakeupNanos their wake-up latency.
	Sleeps      uint64 `json:"sleeps"`
	SleepNanos  int64  `json:"sleep_ns"`
	WakeupNanos int64  `json:"wakeup_ns"`
	// From is where the waker woke the role, "anon_pipe_read → __wake_up":
	// the first frame of its heaviest stack, from the leaf, past the
	// scheduler's wake-up machinery, and the wake-up function it called.
	From string `json:"from,omitempty"`
}

// Values of Step.ThroughputFrom.
const (
	// FromUnprofiled: the baseline, unprofiled transfers interleaved with
	// the profiled ones.
	FromUnprofiled = "unprofiled"
	// FromProfiled: the profiled transfers, with no baseline asked for
	// (--no-baseline).
	FromProfiled = "profiled"
	// FromProfiledStopped: the profiled transfers, because the run
	// stopped before any unprofiled transfer ran.
	FromProfiledStopped = "profiled-stopped"
)
