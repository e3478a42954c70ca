package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

const testToken = "test-admin-token"

// serveConfig parses a serve command line the way the binary does, so tests
// run with the real defaults.
func serveConfig(t *testing.T, args ...string) ServeCmd {
	t.Helper()
	var cli CLI
	parser, err := kong.New(&cli, kong.Configuration(configLoader), kong.DefaultEnvars("MOSAIC"), kong.Exit(func(int) {}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse(append([]string{"serve"}, args...)); err != nil {
		t.Fatalf("parse serve %v: %v", args, err)
	}
	return cli.Serve
}

// startMain boots the real server on a free port with a temporary data
// directory and closes it when the test ends.
func startMain(t *testing.T, args ...string) *Main {
	t.Helper()
	args = append([]string{"--data", t.TempDir(), "--addr", "127.0.0.1:0", "--admin-token", testToken, "--log-level", "warn"}, args...)
	m := NewMain(serveConfig(t, args...), io.Discard)
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m
}

// do sends a request and returns the status and body.
func do(t *testing.T, method, url string, header http.Header, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func adminHeader() http.Header {
	return http.Header{"Authorization": {"Bearer " + testToken}, "Content-Type": {"application/json"}}
}

type testSource struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	WriteKey string `json:"write_key"`
}

func createSource(t *testing.T, m *Main, name string) testSource {
	t.Helper()
	status, body := do(t, "POST", m.URL()+"/api/v1/sources", adminHeader(), `{"name":"`+name+`"}`)
	if status != http.StatusCreated {
		t.Fatalf("POST /api/v1/sources = %d %s, want 201", status, body)
	}
	var src testSource
	if err := json.Unmarshal(body, &src); err != nil {
		t.Fatal(err)
	}
	return src
}

// runCLI runs the binary's entry point in-process.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}
