package eventlog

import "syscall"

// freeSpace returns the bytes available to this process on dir's file
// system, and false if it cannot tell.
func freeSpace(dir string) (int64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * st.Bsize, true
}
