package result_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	pprof "github.com/google/pprof/profile"

	"github.com/pipelab/pipelab/result"
)

// A ladder pipelab recorded: ladder.json and the profile of each step.
var ladderDir = filepath.Join("..", "internal", "fixture", "testdata")

// Read a result folder back: its machine, each step's throughput, and
// the profile of one step with both roles.
func ExampleOpenFolder() {
	f, err := result.OpenFolder(ladderDir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("kernel", f.Ladder.Env.Kernel)
	for _, s := range f.Steps {
		fmt.Printf("%-8s %5.2f GiB/s median of %d runs\n", s.Mode, s.MedianGiBs, len(s.Runs))
	}
	p, err := f.StepProfile("splice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("splice profile:", result.SampleTypes(p))
	// Output:
	// kernel 6.18.44-fc-v769
	// write     1.82 GiB/s median of 5 runs
	// vmsplice  6.03 GiB/s median of 5 runs
	// splice   10.23 GiB/s median of 5 runs
	// huge      8.76 GiB/s median of 5 runs
	// busy      9.20 GiB/s median of 5 runs
	// splice profile: samples/count, cpu/nanoseconds
}

// Every file of a result folder is named by one function; a new
// artefact is a Kind and a function in files.go.
func ExampleProfileFile() {
	fmt.Println(result.StepFile("vmsplice"))
	fmt.Println(result.ProfileFile("vmsplice", ""))
	fmt.Println(result.ProfileFile("vmsplice", "writer"))
	fmt.Println(result.WallFile("vmsplice", "reader"))
	fmt.Println(result.DiffFlameFile("write", "vmsplice", "writer"))
	// Output:
	// vmsplice.json
	// vmsplice.pb.gz
	// vmsplice.writer.pb.gz
	// vmsplice.reader.wall.pb.gz
	// write-vmsplice.writer.diff.svg
}

// Save a step as pipelab profile does: its files are written to temporary
// names first and renamed into place together, so a failure leaves
// nothing half-written.
func ExampleSaveStep() {
	dir, err := os.MkdirTemp("", "pipelab-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	p, err := result.OpenProfile(filepath.Join(ladderDir, "write.pb.gz"))
	if err != nil {
		log.Fatal(err)
	}
	step := &result.Step{Version: result.FormatVersion, Settings: result.Settings{Mode: "write", Bytes: 1 << 30}, Runs: []float64{1.8}}
	err = result.SaveStep(dir, step, map[result.Artefact]*pprof.Profile{{Kind: result.KindProfile}: p})
	if err != nil {
		log.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, n := range names {
		fmt.Println(filepath.Base(n))
	}
	// Output:
	// write.json
	// write.pb.gz
}
