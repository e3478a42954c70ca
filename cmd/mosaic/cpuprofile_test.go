package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStartCPUProfile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		path     string
		wantErr  bool
		wantFile bool
	}{
		{"no path profiles nothing", "", false, false},
		{"a path gets a profile", filepath.Join(dir, "cpu.pprof"), false, true},
		{"a directory that does not exist", filepath.Join(dir, "missing", "cpu.pprof"), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stop, err := startCPUProfile(tt.path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("startCPUProfile(%q) = %v, want error %v", tt.path, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if err := stop(); err != nil {
				t.Fatalf("stop() = %v", err)
			}
			if !tt.wantFile {
				return
			}
			if fi, err := os.Stat(tt.path); err != nil || fi.Size() == 0 {
				t.Errorf("profile %s: %v, size %d; want a non-empty file", tt.path, err, sizeOf(fi))
			}
		})
	}
}

func sizeOf(fi os.FileInfo) int64 {
	if fi == nil {
		return 0
	}
	return fi.Size()
}
