//go:build !linux

package eventlog

import "os"

// datasync falls back to a full sync where fdatasync is not available
// (on macOS, os.File.Sync uses F_FULLFSYNC, which is what durability needs).
func datasync(f *os.File) error { return f.Sync() }
