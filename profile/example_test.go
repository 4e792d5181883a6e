package profile_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/pipelab/pipelab/bench"
	"github.com/pipelab/pipelab/profile"
)

// Profile a transfer: a Profiler is the bench.Observer that bench.Run
// calls as the children start, gated, so the samplers are on them before
// the first byte moves. It needs perf events (root, or a low enough
// kernel.perf_event_paranoid), so this example is not run by go test.
func ExampleNew() {
	p, err := profile.New(profile.Config{FreqHz: 999, Mode: "vmsplice"})
	if err != nil {
		log.Fatal(err)
	}
	o := bench.DefaultOptions()
	o.Mode, o.Bytes = "vmsplice", 1<<30
	if _, err := bench.Run(context.Background(), o, p, nil); err != nil {
		log.Fatal(err)
	}
	for _, r := range p.Result().Roles {
		fmt.Printf("%s: %d samples in %d locations\n", r.Name, r.Samples, len(r.Profile.Location))
	}
}

// Name kernel addresses from a symbol table in the /proc/kallsyms format
// (LoadKallsyms reads the machine's own).
func ExampleParseKallsyms() {
	table := strings.Join([]string{
		"ffffffff816e41f0 t __pfx_anon_pipe_write",
		"ffffffff816e4200 T anon_pipe_write",
		"ffffffff816e4b00 T anon_pipe_read",
		"ffffffffc0a10010 t nft_do_chain\t[nf_tables]",
	}, "\n")
	k, err := profile.ParseKallsyms(strings.NewReader(table))
	if err != nil {
		log.Fatal(err)
	}
	for _, addr := range []uint64{0xffffffff816e4257, 0xffffffff816e4b10, 0xffffffffc0a10020} {
		name, module, _ := k.Lookup(addr)
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%#x %s %s", addr, name, module)))
	}
	// Output:
	// 0xffffffff816e4257 anon_pipe_write
	// 0xffffffff816e4b10 anon_pipe_read
	// 0xffffffffc0a10020 nft_do_chain nf_tables
}
