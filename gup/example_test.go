package gup_test

import (
	"fmt"
	"log"

	"github.com/pipelab/pipelab/gup"
)

// Time get_user_pages_fast over small pages and over a huge page, as the
// post's get-user-pages.cpp does. It needs a kernel built with
// CONFIG_GUP_TEST=y and debugfs mounted, so this example is not run by
// go test (Probe says what is missing).
func ExampleRun() {
	if err := gup.Probe(); err != nil {
		log.Fatal(err)
	}
	for _, huge := range []bool{false, true} {
		r, err := gup.Run(gup.Options{BufSize: 256 << 10, Bytes: 1 << 30, Huge: huge})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("huge %v: %d calls of %d pages, %d µs in get_user_pages_fast\n", huge, r.Calls, r.PagesPerCall, r.GetMicros)
	}
}
