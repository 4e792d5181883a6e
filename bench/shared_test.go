package bench

import (
	"context"
	"slices"
	"testing"
)

// TestSharedRuns: a run sees another pipelab process running transfers
// on the same CPUs (the helper, an endless run pinned as this one), names
// it with its CPUs and command line, and stops seeing it once it is gone.
// Other test suites on the machine may show up too; only the helper is
// asserted.
func TestSharedRuns(t *testing.T) {
	o := one("write")
	cmd, _, _ := startHelper(t)
	helper := cmd.Process.Pid
	res, err := Run(context.Background(), o, nil, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	i := slices.IndexFunc(res.Shared, func(r SharedRun) bool { return r.PID == helper })
	if i < 0 {
		t.Fatalf("Shared %+v does not hold the helper, pid %d", res.Shared, helper)
	}
	if got := res.Shared[i]; !slices.Equal(got.CPUs, runCPUs(o)) || got.Command == "" || got.Command == "?" {
		t.Errorf("got %+v, want CPUs %v and the helper's command line", got, runCPUs(o))
	}
	cmd.Process.Kill()
	cmd.Wait()
	res, err = Run(context.Background(), o, nil, nil)
	noChildren(t)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if slices.ContainsFunc(res.Shared, func(r SharedRun) bool { return r.PID == helper }) {
		t.Errorf("Shared %+v still holds the helper %d after it was killed", res.Shared, helper)
	}
}

// TestBeacons reads beacons from a /proc/net/unix of this machine's
// format, and keeps those whose CPUs overlap.
func TestBeacons(t *testing.T) {
	const netUnix = `Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 21786 /run/systemd/notify
0000000000000000: 00000002 00000000 00000000 0002 01 98765 @pipelab-run/4242/1/0,1
0000000000000000: 00000002 00000000 00000000 0002 01 98766 @pipelab-run/4243/7/1
0000000000000000: 00000002 00000000 00000000 0002 01 98767 @pipelab-run/4244/2/2,3
0000000000000000: 00000002 00000000 00000000 0002 01 98768 @pipelab-run/x/2/0
0000000000000000: 00000003 00000000 00000000 0001 03 12345
`
	names := beaconNames([]byte(netUnix))
	want := []string{"pipelab-run/4242/1/0,1", "pipelab-run/4243/7/1", "pipelab-run/4244/2/2,3", "pipelab-run/x/2/0"}
	if !slices.Equal(names, want) {
		t.Fatalf("got names %q, want %q", names, want)
	}
	var seen []int
	for _, n := range names {
		if r, ok := parseBeacon(n); ok && overlap(r.CPUs, []int{0, 1}) {
			seen = append(seen, r.PID)
		}
	}
	if !slices.Equal(seen, []int{4242, 4243}) {
		t.Errorf("got pids %v on CPUs 0,1, want 4242 and 4243", seen)
	}
}
