package main

import (
	"errors"
	"testing"
)

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		url  string
		want error // nil: accepted; errNotLoopback: refused as remote; else any error
	}{
		{"http://127.0.0.1:8080", nil},
		{"http://127.1.2.3:9000/", nil},
		{"http://localhost:8080", nil},
		{"http://LOCALHOST", nil},
		{"https://[::1]:8443", nil},
		{"http://[::ffff:127.0.0.1]:80", nil},
		{"http://10.0.0.1:8080", errNotLoopback},
		{"http://192.168.1.10", errNotLoopback},
		{"http://0.0.0.0:8080", errNotLoopback},
		{"http://[::]:8080", errNotLoopback},
		{"http://example.com", errNotLoopback},
		{"http://127.0.0.1.nip.io:8080", errNotLoopback},
		{"http://localhost.example.com", errNotLoopback},
		{"http://128.0.0.1", errNotLoopback},
		{"ftp://127.0.0.1", errAny},
		{"127.0.0.1:8080", errAny},
		{"http://user:pw@127.0.0.1", errAny},
		{"://bad", errAny},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := checkLoopback(tt.url)
			switch {
			case tt.want == nil && err != nil:
				t.Errorf("checkLoopback(%q) = %v, want accepted", tt.url, err)
			case tt.want == errNotLoopback && !errors.Is(err, errNotLoopback):
				t.Errorf("checkLoopback(%q) = %v, want %v", tt.url, err, errNotLoopback)
			case tt.want == errAny && err == nil:
				t.Errorf("checkLoopback(%q) = nil, want an error", tt.url)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestLoopbackControl(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:80", true},
		{"[::1]:80", true},
		{"192.0.2.1:80", false},
		{"[2001:db8::1]:80", false},
		{"not-an-address", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := loopbackControl("tcp", tt.addr, nil)
			if (err == nil) != tt.ok {
				t.Errorf("loopbackControl(%q) = %v, want ok=%v", tt.addr, err, tt.ok)
			}
		})
	}
}
