package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

// plainClient makes GET requests over kept-alive HTTP/1.1 connections,
// each request written and its answer read in the goroutine that asks.
// The probe shares the machine's cores with the server it measures, and
// net/http's client hands every request between three goroutines (the
// caller, the connection's writer and its reader): at 2,000 lookups a
// second that took 0.4 of a core, more than half what the server spent
// answering, and every such wake-up is one more thread for the scheduler
// to place beside the server's. It speaks only plain HTTP, which is all
// the probe needs on loopback; https URLs keep net/http's client.
type plainClient struct {
	addr    string // host:port to dial
	head    string // the request's lines after the request line, with the closing blank line
	dialer  net.Dialer
	timeout time.Duration
	idle    chan *plainConn
}

type plainConn struct {
	net.Conn
	r   *bufio.Reader
	req []byte
}

// newPlainClient returns a client for base (an http URL) that keeps up to
// conns idle connections and sends header (lines "Name: value") with
// every request.
func newPlainClient(base *url.URL, conns int, timeout time.Duration, header ...string) (*plainClient, error) {
	if base.Scheme != "http" {
		return nil, fmt.Errorf("the plain client speaks http, not %s", base.Scheme)
	}
	addr := base.Host
	if base.Port() == "" {
		addr = net.JoinHostPort(base.Hostname(), "80")
	}
	head := "Host: " + base.Host + "\r\n"
	for _, h := range header {
		head += h + "\r\n"
	}
	return &plainClient{
		addr:    addr,
		head:    head + "\r\n",
		dialer:  net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: loopbackControl},
		timeout: timeout,
		idle:    make(chan *plainConn, conns),
	}, nil
}

// get requests path (escaped, from the root) and returns the answer's
// status after reading its body. A kept connection the server has closed
// meanwhile is noticed by the request failing before any answer; that
// request is made again on a new connection, as net/http does for GETs.
func (c *plainClient) get(ctx context.Context, path string) (int, error) {
	for {
		pc, reused, err := c.conn(ctx)
		if err != nil {
			return 0, err
		}
		status, keep, err := c.roundTrip(ctx, pc, path)
		if err != nil {
			pc.Close()
			if reused && ctx.Err() == nil && closedBeforeAnswer(err) {
				continue
			}
			return 0, err
		}
		if keep {
			c.put(pc)
		} else {
			pc.Close()
		}
		return status, nil
	}
}

func (c *plainClient) roundTrip(ctx context.Context, pc *plainConn, path string) (status int, keep bool, err error) {
	if err := pc.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, false, err
	}
	// A context that ends (cancelled, or at its deadline) ends the wait at
	// once, as with net/http, and failed then reports the context's error.
	stop := context.AfterFunc(ctx, func() { pc.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		// A connection whose deadline the context's end may still be
		// setting is not kept: it could fail a later request.
		if !stop() {
			keep = false
		}
	}()
	pc.req = append(pc.req[:0], "GET "...)
	pc.req = append(pc.req, path...)
	pc.req = append(pc.req, " HTTP/1.1\r\n"...)
	pc.req = append(pc.req, c.head...)
	if _, err := pc.Write(pc.req); err != nil {
		return 0, false, c.failed(ctx, err)
	}
	resp, err := http.ReadResponse(pc.r, nil)
	if err != nil {
		return 0, false, c.failed(ctx, err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, false, c.failed(ctx, err)
	}
	return resp.StatusCode, !resp.Close, nil
}

// failed prefers the context's error to the connection's, which after a
// cancellation is only a timeout set to end the wait.
func (c *plainClient) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("GET from %s: %w", c.addr, err)
}

// closedBeforeAnswer reports whether err is a connection closed by the
// server before it answered: the request can be made again.
func closedBeforeAnswer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func (c *plainClient) conn(ctx context.Context) (pc *plainConn, reused bool, err error) {
	select {
	case pc := <-c.idle:
		return pc, true, nil
	default:
	}
	conn, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, false, err
	}
	return &plainConn{Conn: conn, r: bufio.NewReaderSize(conn, 16<<10)}, false, nil
}

func (c *plainClient) put(pc *plainConn) {
	select {
	case c.idle <- pc:
	default:
		pc.Close()
	}
}

// Close closes the idle connections.
func (c *plainClient) Close() {
	for {
		select {
		case pc := <-c.idle:
			pc.Close()
		default:
			return
		}
	}
}
