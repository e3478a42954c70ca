package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// tinyDisk mounts a small tmpfs for the test, so the disk really fills up.
// It needs root (CI runs as root); elsewhere the test is skipped.
func tinyDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" && os.Geteuid() == 0 {
			t.Fatalf("mount tmpfs: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir
}

// TestDiskFull fills the data directory's disk while events arrive: the
// server must answer 503 with Retry-After instead of 200, acknowledge only
// what is durable, and take events again without a restart once space is
// freed.
func TestDiskFull(t *testing.T) {
	disk := tinyDisk(t, "24m")
	m := startMain(t, "--data", filepath.Join(disk, "data"))
	src := createSource(t, m, "full")

	// Leave about 2 MiB free; the filler is what an operator deletes later.
	filler := filepath.Join(disk, "filler")
	fillDisk(t, filler, 2<<20)

	acked, full := 0, false
	for i := 0; i < 500 && !full; i++ {
		status, hdr, body := postBatch(t, m, src.WriteKey, i, 100)
		switch status {
		case http.StatusOK:
			acked += 100
		case http.StatusServiceUnavailable:
			full = true
			if hdr.Get("Retry-After") == "" || !strings.Contains(body, `"unavailable"`) {
				t.Errorf("disk full answer = %d %q Retry-After %q, want 503 unavailable with Retry-After", status, body, hdr.Get("Retry-After"))
			}
		default:
			t.Fatalf("batch %d = %d %s", i, status, body)
		}
	}
	t.Logf("acknowledged %d events before the disk filled up", acked)
	if !full || acked == 0 {
		t.Fatalf("acked %d events, disk full seen: %v; want some acked, then 503", acked, full)
	}
	if status, _, _ := postBatch(t, m, src.WriteKey, 9999, 100); status != http.StatusServiceUnavailable {
		t.Errorf("while full: %d, want 503 again", status)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	status, _, body := postBatch(t, m, src.WriteKey, 10000, 100)
	if status != http.StatusOK {
		t.Fatalf("after freeing space = %d %s, want 200 without a restart", status, body)
	}
	acked += 100

	evs := allEvents(t, m, src.ID, acked)
	if len(evs) != acked {
		t.Errorf("stored %d events, want exactly the %d acknowledged", len(evs), acked)
	}
}

func fillDisk(t *testing.T, path string, leave int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		var st syscall.Statfs_t
		if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
			t.Fatal(err)
		}
		if int64(st.Bavail)*st.Bsize <= leave+int64(len(chunk)) {
			return
		}
		if _, err := f.Write(chunk); err != nil {
			return
		}
	}
}

func postBatch(t *testing.T, m *Main, key string, batch, n int) (int, http.Header, string) {
	t.Helper()
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = fmt.Sprintf(`{"type":"track","event":"Filler","userId":"u-%d","messageId":"b%d-%d","properties":{"pad":%q}}`,
			i, batch, i, strings.Repeat("x", 600))
	}
	body, _ := json.Marshal(json.RawMessage(`{"writeKey":"` + key + `","batch":[` + strings.Join(msgs, ",") + `]}`))
	req, _ := http.NewRequest("POST", m.URL()+"/v1/batch", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}
