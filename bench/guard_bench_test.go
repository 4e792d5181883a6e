package bench

import "testing"

// BenchmarkGuard is what the guard adds to each run with a command:
// starting this binary as the guard and letting it go. It happens before
// the gate opens, outside the timed transfer.
func BenchmarkGuard(b *testing.B) {
	for b.Loop() {
		g, err := startGuard(newRunTag())
		if err != nil {
			b.Fatal(err)
		}
		g.close()
	}
}

// BenchmarkBeacons is one look for other pipelab runs on the same CPUs
// (/proc/net/unix), which Run takes before and after each transfer.
func BenchmarkBeacons(b *testing.B) {
	bc := raiseBeacon([]int{0, 1})
	if bc == nil {
		b.Skip("no abstract Unix socket here")
	}
	defer bc.close()
	for b.Loop() {
		bc.others()
	}
}

// BenchmarkLeftOver is the look for processes a command left outside its
// process group, at the end of each run with a command (a scan of every
// process's environment in /proc).
func BenchmarkLeftOver(b *testing.B) {
	for b.Loop() {
		killEscaped(newRunTag(), nil)
	}
}
