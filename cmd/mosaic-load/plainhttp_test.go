package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer serves handler and counts the connections clients open.
func countingServer(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func plainClientFor(t *testing.T, srv *httptest.Server, header ...string) *plainClient {
	t.Helper()
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := newPlainClient(base, 4, 5*time.Second, header...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestPlainClientAnswersAndKeepsConnections(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer secret" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/api/v1/profiles/user_id:42":
			w.Write([]byte(strings.Repeat(`{"id":"p"}`, 2000))) // longer than one read
		case "/api/v1/profiles/user_id:a b":
			w.Write([]byte(`{}`))
		default:
			http.NotFound(w, r)
		}
	})
	c := plainClientFor(t, srv, "Authorization: Bearer secret")
	tests := []struct {
		path string
		want int
	}{
		{"/api/v1/profiles/user_id:42", http.StatusOK},
		{"/api/v1/profiles/" + url.PathEscape("user_id:a b"), http.StatusOK},
		{"/api/v1/profiles/user_id:43", http.StatusNotFound},
	}
	for range 20 {
		for _, tt := range tests {
			got, err := c.get(context.Background(), tt.path)
			if err != nil {
				t.Fatalf("get %s: %v", tt.path, err)
			}
			if got != tt.want {
				t.Fatalf("get %s: status %d, want %d", tt.path, got, tt.want)
			}
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("60 requests one after another opened %d connections, want 1", n)
	}
}

func TestPlainClientWithoutToken(t *testing.T) {
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	c := plainClientFor(t, srv)
	if got, err := c.get(context.Background(), "/"); err != nil || got != http.StatusUnauthorized {
		t.Fatalf("get = %d, %v; want 401", got, err)
	}
}

func TestPlainClientAgainOnClosedConnection(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {})
	c := plainClientFor(t, srv)
	if _, err := c.get(context.Background(), "/"); err != nil {
		t.Fatal(err)
	}
	srv.CloseClientConnections() // as a server's idle timeout would
	got, err := c.get(context.Background(), "/")
	if err != nil || got != http.StatusOK {
		t.Fatalf("get after the server closed the kept connection = %d, %v; want 200", got, err)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestPlainClientHonoursConnectionClose(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
	})
	c := plainClientFor(t, srv)
	for range 3 {
		if _, err := c.get(context.Background(), "/"); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("3 answers with Connection: close, %d connections; want 3", n)
	}
}

func TestPlainClientCancelled(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c := plainClientFor(t, srv)
	c.timeout = time.Hour // only the cancellation can end the wait
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.get(ctx, "/")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("get with a cancelled context: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("get returned %s after the cancellation; it should end the wait at once", d)
	}
}

func TestPlainClientOnlyPlainHTTP(t *testing.T) {
	base, _ := url.Parse("https://127.0.0.1:8443")
	if _, err := newPlainClient(base, 1, time.Second); err == nil {
		t.Fatal("newPlainClient accepted an https URL")
	}
}
