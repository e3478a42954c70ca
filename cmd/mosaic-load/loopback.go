package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// errNotLoopback is returned for any target that is not this machine: the
// load generator floods whatever it points at, so it only ever points here.
var errNotLoopback = errors.New("mosaic-load only sends to this machine")

// checkLoopback parses a base URL and accepts it only if it is http(s) on a
// loopback host: localhost, 127.0.0.0/8 or ::1. Host names other than
// localhost are refused rather than resolved, so DNS cannot redirect a run.
func checkLoopback(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-url %q is not a URL: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("-url %q must start with http:// or https://, e.g. http://127.0.0.1:8080", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("-url %q must not carry credentials; use -write-key or -admin-token", raw)
	}
	if !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("-url %q: %w (localhost, 127.0.0.0/8 or ::1)", raw, errNotLoopback)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// isLoopbackHost reports whether host is a loopback IP literal or localhost.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackControl is a net.Dialer Control hook that refuses to connect
// anywhere but loopback, in case "localhost" resolves somewhere else.
func loopbackControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("dial %s %s: %w", network, address, errNotLoopback)
	}
	return nil
}

// newClient returns an HTTP client for loopback load: one idle keep-alive
// connection per worker, no proxy from the environment, no redirects (which
// could lead off this machine) and a dialer that only reaches loopback.
func newClient(conns int, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: loopbackControl}
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         dialer.DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      16 << 10,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
