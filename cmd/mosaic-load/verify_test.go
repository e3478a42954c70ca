package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestTally(t *testing.T) {
	tests := []struct {
		name     string
		recorded []string
		log      []string
		want     VerifyResult
	}{
		{"all once", []string{"a", "b"}, []string{"a", "b"},
			VerifyResult{Recorded: 2, Found: 2, Scanned: 2}},
		{"extra events are fine", []string{"a"}, []string{"x", "a", "y"},
			VerifyResult{Recorded: 1, Found: 1, Scanned: 3, Unrecorded: 2}},
		{"missing", []string{"a", "b", "c"}, []string{"b"},
			VerifyResult{Recorded: 3, Found: 1, Missing: 2, Scanned: 1}},
		{"duplicated", []string{"a", "b"}, []string{"a", "b", "a"},
			VerifyResult{Recorded: 2, Found: 2, Duplicated: 1, Scanned: 3}},
		{"empty log", []string{"a"}, nil,
			VerifyResult{Recorded: 1, Missing: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]int{}
			for _, id := range tt.recorded {
				seen[id] = 0
			}
			tl := &tally{seen: seen, res: VerifyResult{Recorded: len(seen)}}
			for _, id := range tt.log {
				tl.add(id)
			}
			got := tl.result()
			if diff := cmp.Diff(tt.want, *got, cmpopts.IgnoreFields(VerifyResult{}, "Examples")); diff != "" {
				t.Errorf("tally(%q, %q) mismatch (-want +got):\n%s", tt.recorded, tt.log, diff)
			}
			if got.OK() != (tt.want.Missing == 0 && tt.want.Duplicated == 0) || len(got.Examples) != tt.want.Missing+tt.want.Duplicated {
				t.Errorf("tally(%q, %q): OK() = %v with examples %q", tt.recorded, tt.log, got.OK(), got.Examples)
			}
		})
	}
}

func TestReadRecorded(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("id1\nid2\n\n"), 0o644)
	os.WriteFile(b, []byte("id3\nid1\n"), 0o644)
	got, err := readRecorded([]string{a, b})
	if err != nil {
		t.Fatalf("readRecorded() = %v", err)
	}
	want := map[string]int{"id1": 0, "id2": 0, "id3": 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("readRecorded() mismatch (-want +got):\n%s", diff)
	}
	if _, err := readRecorded([]string{filepath.Join(dir, "none")}); err == nil {
		t.Errorf("readRecorded(missing file) = nil error, want one")
	}
}

func TestParseVerifyFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		ok   bool
	}{
		{"complete", []string{"-admin-token", "t", "-source", "s", "f1", "f2"}, true},
		{"no file", []string{"-admin-token", "t", "-source", "s"}, false},
		{"no source", []string{"-admin-token", "t", "f1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseVerifyFlags(tt.args, nil)
			if (err == nil) != tt.ok {
				t.Errorf("parseVerifyFlags(%q) = %v, want ok=%v", tt.args, err, tt.ok)
			}
		})
	}
}
