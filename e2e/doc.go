// Package e2e holds pipelab's end-to-end checks: each test runs the pipelab
// binary as a user would (doctor, run, profile in the cpu and wall views,
// ladder) and checks what a user would read in its output and files.
//
// The same checks run here under `make test` and, as a static test binary
// next to a static pipelab, inside every kernel of `make matrix`, which
// boots Debian's kernels under QEMU. They read three environment variables:
//
//	PIPELAB_BIN        the pipelab binary to run (default: built from this module)
//	PIPELAB_E2E_OUT    a folder that keeps doctor.json, symbols.json and the
//	                   ladder folder for the matrix (default: a test's temp dir)
//	PIPELAB_E2E_BYTES  the size of each transfer (default 16MiB: emulated CPUs
//	                   run 10-50x slower)
//
// Each test logs one line starting with "result: ", the cell `make matrix`
// puts in its table. No line carries a timing: under emulation they are not
// the hardware's.
package e2e
