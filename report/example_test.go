package report_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/report"
)

// Rebuild the report of a saved ladder, as pipelab report DIR does:
// report.md, its throughput chart and the flame graphs it embeds, written
// next to the results.
func ExampleWrite() {
	dir, err := os.MkdirTemp("", "pipelab-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	from := filepath.Join("..", "internal", "fixture", "testdata")
	for _, name := range []string{"ladder.json", "write.pb.gz", "vmsplice.pb.gz"} {
		data, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if err := report.Write(dir, attribute.Options{}); err != nil {
		log.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, n := range names {
		fmt.Println(filepath.Base(n))
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	fmt.Println(strings.SplitN(string(md), "\n", 2)[0])
	// Output:
	// ladder.json
	// report.md
	// throughput.svg
	// vmsplice.pb.gz
	// vmsplice.reader.svg
	// vmsplice.writer.svg
	// write-vmsplice.reader.diff.svg
	// write-vmsplice.writer.diff.svg
	// write.pb.gz
	// write.reader.svg
	// write.writer.svg
	// # pipelab ladder: pipe throughput step by step
}
