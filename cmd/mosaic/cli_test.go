package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSourcesCLI(t *testing.T) {
	m := startMain(t)
	client := []string{"--server", m.URL(), "--admin-token", testToken}

	code, out, errOut := runCLI(t, append([]string{"sources", "create", "ios-app"}, client...)...)
	if code != 0 {
		t.Fatalf("sources create exit %d: %s", code, errOut)
	}
	key := regexp.MustCompile(`write key: (\S+)`).FindStringSubmatch(out)
	if key == nil {
		t.Fatalf("sources create printed %q, want the write key", out)
	}
	code, out, errOut = runCLI(t, append([]string{"sources", "list"}, client...)...)
	if code != 0 || !strings.Contains(out, "ios-app") || !strings.Contains(out, key[1]) {
		t.Errorf("sources list = %d %q %q, want the new source", code, out, errOut)
	}

	code, _, errOut = runCLI(t, "sources", "list", "--server", m.URL(), "--admin-token", "wrong")
	if code == 0 || !strings.Contains(errOut, "admin token is not valid") {
		t.Errorf("sources list with a wrong token = %d %q, want an explanation", code, errOut)
	}
	code, _, errOut = runCLI(t, "sources", "list", "--server", "http://127.0.0.1:1", "--admin-token", testToken)
	if code == 0 || !strings.Contains(errOut, "cannot reach") {
		t.Errorf("sources list with no server = %d %q, want 'cannot reach'", code, errOut)
	}
}

func TestEventsTailCLI(t *testing.T) {
	m := startMain(t)
	src := createSource(t, m, "tail")
	done := make(chan struct{})
	var code int
	var out, errOut string
	go func() {
		defer close(done)
		code, out, errOut = runCLI(t, "events", "tail", "--server", m.URL(), "--admin-token", testToken, "--after", "0", "--max", "2", "--source", src.ID)
	}()
	time.Sleep(300 * time.Millisecond) // let tail start waiting
	h := map[string][]string{"Content-Type": {"application/json"}}
	for _, ev := range []string{"Signed Up", "Order Completed"} {
		if status, b := do(t, "POST", m.URL()+"/v1/track", h, `{"writeKey":"`+src.WriteKey+`","userId":"u-7","event":"`+ev+`"}`); status != 200 {
			t.Fatalf("track = %d %s", status, b)
		}
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("events tail did not return after 2 events")
	}
	if code != 0 || !strings.Contains(out, `"Signed Up"`) || !strings.Contains(out, `"Order Completed"`) || !strings.Contains(out, "u-7") {
		t.Errorf("events tail = %d %q %q, want both events", code, out, errOut)
	}
}

func TestHelpRunsNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	code, out, _ := runCLI(t, "serve", "--help", "--data", dir)
	if code != 0 || !strings.Contains(out, "--addr") {
		t.Errorf("serve --help = %d %q, want the flags", code, out)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("serve --help created %s: it must not start the server", dir)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "mosaic ") {
		t.Errorf("version = %d %q", code, out)
	}
}

func TestConfigSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mosaic.json")
	if err := os.WriteFile(file, []byte(`{"addr": "127.0.0.1:9999", "data": "/from/file", "log_format": "json"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MOSAIC_DATA", "/from/env")
	cfg := serveConfig(t, "--config", file)
	if cfg.Addr != "127.0.0.1:9999" || cfg.Data != "/from/env" || cfg.LogFormat != "json" {
		t.Errorf("config = addr %q data %q format %q; want addr from file, data from env (env beats file), json from file", cfg.Addr, cfg.Data, cfg.LogFormat)
	}
	cfg = serveConfig(t, "--config", file, "--data", "/from/flag")
	if cfg.Data != "/from/flag" {
		t.Errorf("data = %q, want the flag to win", cfg.Data)
	}
	os.Unsetenv("MOSAIC_DATA") // t.Setenv above restores it after the test
	if cfg := serveConfig(t); cfg.Data != "./mosaic-data" || cfg.Addr != "127.0.0.1:8080" {
		t.Errorf("defaults = %q %q", cfg.Data, cfg.Addr)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"adress": "x"}`), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown config key", []string{"serve", "--config", bad}, "unknown keys adress"},
		{"bad addr", []string{"serve", "--addr", "nonsense", "--data", dir}, "is not host:port"},
		{"bad public url", []string{"serve", "--public-url", "cdp.example.com", "--data", dir}, "must start with http"},
		{"bad log format", []string{"serve", "--log-format", "xml"}, "must be one of"},
		{"tiny dedupe window", []string{"serve", "--dedupe-window", "1m", "--data", dir}, "at least 1h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tt.args...)
			if code == 0 || !strings.Contains(errOut, tt.want) {
				t.Errorf("mosaic %v = exit %d, stderr %q; want failure mentioning %q", tt.args, code, errOut, tt.want)
			}
		})
	}
}

func TestGeneratedAdminToken(t *testing.T) {
	dir := t.TempDir()
	cfg := serveConfig(t, "--data", dir, "--addr", "127.0.0.1:0", "--log-level", "error")
	var stderr strings.Builder
	m := NewMain(cfg, &stderr)
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	token := regexp.MustCompile(`mosaic_[A-Za-z0-9_-]{43}`).FindString(stderr.String())
	if token == "" {
		t.Fatalf("first start printed %q, want a generated admin token", stderr.String())
	}
	status, _ := do(t, "GET", m.URL()+"/api/v1/sources", map[string][]string{"Authorization": {"Bearer " + token}}, "")
	if status != 200 {
		t.Errorf("admin API with the generated token = %d, want 200", status)
	}
	stored, err := m.Store.Setting(context.Background(), adminTokenSetting)
	if sum := sha256.Sum256([]byte(token)); err != nil || stored != hex.EncodeToString(sum[:]) {
		t.Errorf("stored %q, %v: want only the token's hash", stored, err)
	}
	_ = m.Close(context.Background())

	// A second start reuses the stored hash and prints nothing.
	stderr.Reset()
	m = NewMain(cfg, &stderr)
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	if strings.Contains(stderr.String(), "mosaic_") {
		t.Errorf("second start printed a token again: %q", stderr.String())
	}
	if status, _ := do(t, "GET", m.URL()+"/api/v1/sources", map[string][]string{"Authorization": {"Bearer " + token}}, ""); status != 200 {
		t.Errorf("token after restart = %d, want 200", status)
	}
}
