//go:build !linux

package eventlog

import (
	"errors"
	"os"
)

// freeSpace cannot tell the free space on this platform; the preparer then
// prepares regardless, and a failure only means segments are created when
// needed.
func freeSpace(string) (int64, bool) { return 0, false }

// allocate is not available here: prepared segments are always zero-filled.
func allocate(*os.File, int64) error { return errors.ErrUnsupported }
