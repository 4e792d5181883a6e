package attribute_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/pipelab/pipelab/attribute"
	"github.com/pipelab/pipelab/result"
)

// Profiles pipelab recorded, one per step of the post.
var profiles = filepath.Join("..", "internal", "fixture", "testdata")

// Attribute a profile (pipelab's, or any pprof file with kernel frames)
// to the kernel symbols the post names: per role, the inclusive share of
// each, found on this kernel under whatever name it has now.
func ExampleProfile() {
	p, err := result.OpenProfile(filepath.Join(profiles, "write.pb.gz"))
	if err != nil {
		log.Fatal(err)
	}
	as, err := attribute.Profile(p, attribute.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range as {
		for _, s := range a.Post {
			if s.CumShare >= 0.10 {
				fmt.Printf("%s: %s %.0f%% (as %s)\n", a.Role, s.Post, 100*s.CumShare, s.Symbol)
			}
		}
	}
	// Output:
	// writer: pipe_write 94% (as anon_pipe_write)
	// writer: __alloc_pages 26% (as alloc_pages_noprof, __alloc_frozen_pages_noprof)
	// writer: schedule 29% (as schedule)
	// reader: pipe_read 92% (as anon_pipe_read)
	// reader: copy_page_to_iter 17% (as copy_page_to_iter)
	// reader: schedule 28% (as schedule)
}

// Diff two profiles as pipelab diff does: the kernel symbols whose share
// of each role changed most, biggest change first.
func ExampleDiffFiles() {
	d, err := attribute.DiffFiles(filepath.Join(profiles, "huge.pb.gz"), filepath.Join(profiles, "busy.pb.gz"), attribute.Options{Top: 3})
	if err != nil {
		log.Fatal(err)
	}
	if err := attribute.WriteDiffText(os.Stdout, d.Roles[:1]); err != nil {
		log.Fatal(err)
	}
	// Output:
	// writer: A 300 samples, 300.30ms; B 115 samples, 115.12ms (cpu/nanoseconds); shares of the role's total, biggest change first
	// self% A  self% B  cum% A  cum% B      Δcum  symbol
	//   0.33%    0.00%  70.00%  26.09%  -43.91pp  __raw_callee_save_pvm_irq_enable
	//  69.67%   26.09%  69.67%  26.09%  -43.58pp  pvm_irq_enable
	//   0.33%    0.00%  37.33%   0.00%  -37.33pp  wait_for_space
}

// Check what the post says limits a step against its profile.
func ExampleCheckClaim() {
	p, err := result.OpenProfile(filepath.Join(profiles, "write.pb.gz"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(attribute.CheckClaim("write", p, attribute.Options{}).Sentence())
	// Output:
	// differs: copy_page_from_iter and __alloc_pages (__alloc_frozen_pages_noprof 27.2%, copy_page_from_iter 7.9%) take 35.1% (95% CI 31.6%–38.7%, 699 samples) of anon_pipe_write in the writer (the post: 75.9%); schedule dominates instead with 30.9%
}
