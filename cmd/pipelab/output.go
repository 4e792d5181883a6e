package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pipelab/pipelab/result"
)

// outError says a failure to write a result file in one line: the file
// (never the temporary file it was written to first), why, and the
// remedy. A folder the user named that refuses writes (permission, a
// read-only file system) is bad input, exit status 2; a full file system
// fails the run. Any other error is returned as it is.
func outError(err error) error {
	var we *result.WriteError
	if !errors.As(err, &we) {
		return err
	}
	switch {
	case errors.Is(we.Err, syscall.EACCES), errors.Is(we.Err, syscall.EPERM), errors.Is(we.Err, syscall.EROFS):
		return &usageError{fmt.Sprintf("%v (choose a folder you can write to, or change its permissions)", we)}
	case errors.Is(we.Err, syscall.ENOSPC), errors.Is(we.Err, syscall.EDQUOT):
		return fmt.Errorf("%w (free some space on its file system, or choose another folder with --out)", we)
	}
	return err
}

// checkOutputFile refuses, before any work, an output file that cannot
// be written: a directory, or a path whose folder is missing or not
// writable. flag names the flag that gave path.
func checkOutputFile(flag, path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usagef("%s %s: is a directory (give a file name, e.g. %s)", flag, path, filepath.Join(path, "diff.pb.gz"))
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".pipelab-probe-*")
	if err != nil {
		return usagef("%s %s: cannot write in %s: %v (choose a writable folder)", flag, path, dir, unwrapPath(err))
	}
	f.Close()
	return os.Remove(f.Name())
}
