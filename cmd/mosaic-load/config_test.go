package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseRunFlags(t *testing.T) {
	ok := []string{"-write-key", "k", "-duration", "5s"}
	tests := []struct {
		name    string
		args    []string
		wantErr string // substring; empty for success
	}{
		{"defaults", ok, ""},
		{"admin token instead of key", []string{"-admin-token", "t", "-duration", "1s"}, ""},
		{"track mode", append([]string{"-mode", "track", "-concurrency", "64"}, ok...), ""},
		{"no duration", []string{"-write-key", "k"}, "-duration must be set"},
		{"too long", []string{"-write-key", "k", "-duration", "11m"}, "-duration must be set"},
		{"no key", []string{"-duration", "1s"}, "-write-key"},
		{"remote url", append([]string{"-url", "http://192.0.2.1:8080"}, ok...), "only sends to this machine"},
		{"bad mode", append([]string{"-mode", "stream"}, ok...), "-mode must be batch or track"},
		{"batch too big", append([]string{"-batch", "1000"}, ok...), "-batch must be 1 to 500"},
		{"no clients", append([]string{"-concurrency", "0"}, ok...), "-concurrency"},
		{"negative rate", append([]string{"-rate", "-1"}, ok...), "-rate"},
		{"extra argument", append(ok, "extra"), "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseRunFlags(tt.args, io.Discard)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("parseRunFlags(%q) = %v, want no error", tt.args, err)
				}
				if cfg.base == nil || cfg.Duration <= 0 || cfg.Duration > maxDuration {
					t.Errorf("parseRunFlags(%q) = base %v duration %v, want a checked URL and a bounded duration", tt.args, cfg.base, cfg.Duration)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseRunFlags(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

func TestEventsPerRequest(t *testing.T) {
	tests := []struct {
		mode  string
		batch int
		want  int
	}{
		{"batch", 100, 100},
		{"batch", 1, 1},
		{"track", 100, 1},
	}
	for _, tt := range tests {
		c := &RunConfig{Mode: tt.mode, Batch: tt.batch, Duration: time.Second}
		if got := c.eventsPerRequest(); got != tt.want {
			t.Errorf("eventsPerRequest(mode %s, batch %d) = %d, want %d", tt.mode, tt.batch, got, tt.want)
		}
	}
}
