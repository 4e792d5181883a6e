package bench_test

import (
	"context"
	"fmt"
	"log"

	"github.com/pipelab/pipelab/bench"
)

// Run one of the post's strategies: a real writer and a real reader
// process joined by a pipe. The program that calls Run must call
// bench.Child first thing in main, as this test binary's TestMain does:
// the writer and the reader are that program, re-executed.
func ExampleRun() {
	o := bench.DefaultOptions()
	o.Mode, o.Bytes, o.Repeat = "vmsplice", 16<<20, 2
	o.PinWriter, o.PinReader = -1, -1 // any CPU
	if err := o.Validate(); err != nil {
		log.Fatal(err)
	}
	res, err := bench.Run(context.Background(), o, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	for i, r := range res.Runs {
		fmt.Printf("run %d: %s through the pipe, GiB/s > 0: %v\n", i+1, bench.FormatSize(r.Bytes), r.GiBPerSec > 0)
	}
	// Output:
	// run 1: 16MiB through the pipe, GiB/s > 0: true
	// run 2: 16MiB through the pipe, GiB/s > 0: true
}

// Options that do not go together are an *OptionError naming the field
// at fault; a command says it with its own flag names (Format).
func ExampleOptions_Validate() {
	o := bench.DefaultOptions()
	o.Mode, o.SameBuffer = "write", true
	o.PinWriter, o.PinReader = -1, -1
	err := o.Validate()
	fmt.Println(err)
	fmt.Println(err.(*bench.OptionError).Format(func(field string) string { return "--same-buffer" }))
	// Output:
	// SameBuffer: needs a vmsplice writer (use mode vmsplice, splice, huge or busy)
	// --same-buffer: needs a vmsplice writer (use mode vmsplice, splice, huge or busy)
}

// Sizes are spelled with binary units, as the post's programs take them.
func ExampleParseSize() {
	for _, s := range []string{"256KiB", "1.5GiB", "10G", "4096"} {
		n, err := bench.ParseSize(s)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(s, n, bench.FormatSize(n))
	}
	// Output:
	// 256KiB 262144 256KiB
	// 1.5GiB 1610612736 1536MiB
	// 10G 10737418240 10GiB
	// 4096 4096 4KiB
}
