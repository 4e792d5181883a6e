package compare_test

import (
	"fmt"
	"log"
	"path/filepath"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/compare"
)

// Set two result folders side by side, as pipelab compare does: where
// their machines differ, and each step's change of throughput against the
// base folder.
func ExampleFolders() {
	base, old := filepath.Join("testdata", "compare", "base"), filepath.Join("testdata", "compare", "old")
	l, err := compare.Folders([]string{base, old}, attribute.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(l.Machine)
	for _, st := range l.Steps {
		c := st.Cells[1]
		if c.Missing || st.Cells[0].Missing {
			fmt.Printf("%s: in one folder only\n", st.Mode)
			continue
		}
		fmt.Printf("%s: %.2f → %.2f GiB/s, %s (p=%.3f)\n", st.Mode, st.Cells[0].Throughput.Median, c.Throughput.Median, c.Delta, c.P)
	}
	// Output:
	// same machine, kernel 6.18.44-fc-v769 vs 5.15.0-91-generic, go version go1.26.8 vs go1.22.2
	// write: 0.65 → 1.10 GiB/s, +69.77% (p=0.002)
	// vmsplice: 2.03 → 2.02 GiB/s, ~ (p=0.937)
	// splice: in one folder only
}
