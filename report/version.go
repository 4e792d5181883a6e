package report

import (
	"errors"
	"fmt"
)

// FormatVersion is the version of the exchange format this pipelab writes
// into ladder.json and MODE.json: 1 is the files without a version field,
// 2 adds the version, the idle driver, pipelab's own version and each
// step's environment. A reader takes every version from 1 to
// FormatVersion; a file from a newer pipelab is refused.
const FormatVersion = 2

// errVersion means a ladder.json or MODE.json has a format version this
// pipelab cannot read.
var errVersion = errors.New("unknown format version")

// checkVersion returns an error wrapping errVersion unless v (0 meaning a
// file from before the field, version 1) is one this pipelab reads.
func checkVersion(v int) error {
	if v >= 0 && v <= FormatVersion {
		return nil
	}
	return fmt.Errorf("%w %d (this pipelab reads versions 1 to %d; read it with a newer pipelab)", errVersion, v, FormatVersion)
}
