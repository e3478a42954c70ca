package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// stats are the counters the workers share while a run is going.
type stats struct {
	requests      atomic.Uint64 // attempts, answered or not
	ackedRequests atomic.Uint64
	ackedEvents   atomic.Uint64
	bytesSent     atomic.Uint64 // request bodies as sent (compressed with -gzip)

	mu     sync.Mutex
	errors map[string]*ErrorCount
}

// ErrorCount counts one kind of failure and keeps its first example.
type ErrorCount struct {
	Count   uint64 `json:"count"`
	Example string `json:"example"`
}

// addError counts one failure of kind, e.g. "HTTP 429" or "connection refused".
func (s *stats) addError(kind, example string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errors == nil {
		s.errors = map[string]*ErrorCount{}
	}
	e := s.errors[kind]
	if e == nil {
		e = &ErrorCount{Example: example}
		s.errors[kind] = e
	}
	e.Count++
}

// errorCounts returns a copy of the failure counts.
func (s *stats) errorCounts() map[string]ErrorCount {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]ErrorCount, len(s.errors))
	for k, v := range s.errors {
		out[k] = *v
	}
	return out
}

// totalErrors is the number of failed requests of any kind.
func (s *stats) totalErrors() uint64 {
	var n uint64
	for _, e := range s.errorCounts() {
		n += e.Count
	}
	return n
}

// classifyError names a transport failure. A crash test expects the
// connection ones while the server is down.
func classifyError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, errNotLoopback):
		return "refused: not loopback"
	default:
		return "transport error"
	}
}

// statusKind names a non-200 answer.
func statusKind(code int) string { return fmt.Sprintf("HTTP %d", code) }
