package throughput_test

import (
	"log"
	"os"
	"path/filepath"

	"github.com/pipelab/pipelab/result"
	"github.com/pipelab/pipelab/throughput"
)

// Summarise the runs of each step of a saved ladder as benchstat would,
// beside the post's figure, and print the table pipelab ladder prints.
func ExampleRows() {
	f, err := result.OpenFolder(filepath.Join("..", "internal", "fixture", "testdata"))
	if err != nil {
		log.Fatal(err)
	}
	if err := throughput.WriteText(os.Stdout, throughput.Rows(f.Steps)); err != nil {
		log.Fatal(err)
	}
	// Output:
	// mode              GiB/s   min    max  n         vs previous  speedup  vs first   post
	// write      1.82 ± 53% ¹  0.86   1.85  5                                          3.70
	// vmsplice   6.03 ± 13% ¹  5.27   6.58  5  +230.34% (p=0.008)    ×3.30     ×3.30  12.70
	// splice    10.23 ± 11% ¹  9.07  10.63  5   +69.68% (p=0.008)    ×1.70     ×5.61  32.80
	// huge       8.76 ± 25% ¹  6.54  10.49  5         ~ (p=0.151)    ×0.86     ×4.80  51.00
	// busy       9.20 ± 37% ¹  5.83  11.18  5         ~ (p=0.841)    ×1.05     ×5.04  62.50
	// ¹ spread is the range of the runs: a 95% confidence interval of the median needs at least 6 runs
}

// Write the runs as CSV with the columns of the post's measure.py, so its
// pandas step reads pipelab's figures unchanged.
func ExampleWriteCSV() {
	f, err := result.OpenFolder(filepath.Join("..", "internal", "fixture", "testdata"))
	if err != nil {
		log.Fatal(err)
	}
	if err := throughput.WriteCSV(os.Stdout, f.Steps[:1]); err != nil {
		log.Fatal(err)
	}
	// Output:
	// name,gibibytes_per_second,bytes_to_pipe,buf_size,pipe_size,busy_loop,poll,huge_page,check_huge_page,write_with_vmsplice,read_with_splice,gift,lock_memory,dont_touch_pages,same_buffer,run,buf_offset
	// write,0.946400,1073741824,262144,65536,0,0,0,0,0,0,0,0,0,0,1,0
	// write,1.834300,1073741824,262144,65536,0,0,0,0,0,0,0,0,0,0,2,0
	// write,0.863000,1073741824,262144,65536,0,0,0,0,0,0,0,0,0,0,3,0
	// write,1.845100,1073741824,262144,65536,0,0,0,0,0,0,0,0,0,0,4,0
	// write,1.825000,1073741824,262144,65536,0,0,0,0,0,0,0,0,0,0,5,0
}
