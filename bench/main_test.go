package bench

import (
	"fmt"
	"os"
	"testing"

	"github.com/pipelab/pipelab/internal/testenv"
)

// TestMain lets the test binary act as writer and reader, and fails the
// run if any test left a child process behind.
func TestMain(m *testing.M) {
	Child()
	if os.Getenv(envHelper) != "" {
		runHelper()
		os.Exit(0)
	}
	code := m.Run()
	if kids := testenv.Children(os.Getpid()); len(kids) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: tests left child processes running: %v\n", kids)
		code = 1
	}
	os.Exit(code)
}
