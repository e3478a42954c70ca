//go:build !unix

package eventlog

import (
	"fmt"
	"os"
	"path/filepath"
)

const lockName = "LOCK"

// lockDir only creates the lock file where flock is not available; running
// two processes on one log directory there is the operator's responsibility.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("eventlog: lock %s: %w", dir, err)
	}
	return f, nil
}
