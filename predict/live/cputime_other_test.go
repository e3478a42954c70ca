//go:build !unix

package live

func cpuTime() int64 { return 0 }
