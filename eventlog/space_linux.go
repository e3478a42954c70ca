package eventlog

import (
	"os"
	"syscall"
)

// freeSpace returns the bytes available to this process on dir's file
// system, and false if it cannot tell.
func freeSpace(dir string) (int64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * st.Bsize, true
}

// allocate gives f blocks up to size without writing them (fallocate), so
// that they read as zeros; it fails where the file system cannot.
func allocate(f *os.File, size int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = syscall.Fallocate(int(fd), 0, 0, size) }); err != nil {
		return err
	}
	return ferr
}
