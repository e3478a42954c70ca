package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCrashRecovery is the crash test of the durable log: the real mosaic
// binary, under load, is killed with SIGKILL at random moments and
// restarted on the same data directory. Every messageId it acknowledged
// must afterwards be in the event log exactly once.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills the real server; skipped with -short")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	dir := t.TempDir()
	srv := &server{t: t, bin: buildServer(t, dir), data: filepath.Join(dir, "data"), addr: freeAddr(t), out: filepath.Join(dir, "server.log")}
	srv.start()
	t.Cleanup(srv.stop)
	src := createTestSource(t, srv.url())

	const rounds = 5
	var files []string
	var acked uint64
	for round := range rounds {
		file := filepath.Join(dir, fmt.Sprintf("acked-%d.txt", round))
		files = append(files, file)
		rep := loadWhileKilling(t, srv, rng, round, src.WriteKey, file)
		if rep.AckedEvents == 0 {
			t.Fatalf("round %d: no event acknowledged (errors %v), want some before and after the kill", round, rep.Errors)
		}
		acked += rep.AckedEvents
		t.Logf("round %d (%s): %d events acknowledged, %d requests, errors %v", round, rep.Mode, rep.AckedEvents, rep.Requests, errorCounts(rep.Errors))
	}
	res := verifyAll(t, srv.url(), src.ID, files)
	t.Logf("%d events acknowledged in %d rounds; verify: recorded %d, found %d, missing %d, duplicated %d, %d stored but unacknowledged",
		acked, rounds, res.Recorded, res.Found, res.Missing, res.Duplicated, res.Unrecorded)
	if !res.OK() || res.Recorded != int(acked) {
		t.Errorf("after %d crashes: %d acknowledged, %d recorded, %d missing, %d duplicated (e.g. %q); want all acknowledged ids recorded and stored once",
			rounds, acked, res.Recorded, res.Missing, res.Duplicated, res.Examples)
	}
}

// loadWhileKilling runs one round: load for a few seconds, during which the
// server is killed at a random moment and restarted at once, so the load
// generator sees both the crash and the recovery.
func loadWhileKilling(t *testing.T, srv *server, rng *rand.Rand, round int, writeKey, record string) Report {
	t.Helper()
	args := []string{"run", "-url", srv.url(), "-write-key", writeKey, "-duration", "3s",
		"-record", record, "-json", "-progress", "0", "-timeout", "10s"}
	// Alternate batches and single calls; the rate keeps the log small
	// enough to read back quickly on a busy machine.
	if round%2 == 0 {
		args = append(args, "-mode", "batch", "-batch", "20", "-concurrency", "8", "-rate", "300")
	} else {
		args = append(args, "-mode", "track", "-concurrency", "16", "-rate", "1000")
	}
	done := make(chan Report, 1)
	go func() { done <- runLoad(t, args) }()
	time.Sleep(200*time.Millisecond + time.Duration(rng.Int64N(int64(1300*time.Millisecond))))
	srv.kill()
	srv.start()
	return <-done
}

// runLoad runs the load generator in this process, through its command
// line, and returns its JSON report.
func runLoad(t *testing.T, args []string) Report {
	var stdout, stderr strings.Builder
	code := run(context.Background(), args, &stdout, &stderr)
	var rep Report
	if err := json.Unmarshal([]byte(stdout.String()), &rep); err != nil {
		t.Errorf("mosaic-load %q exited %d with no report: %v; stderr: %s", args, code, err, stderr.String())
	}
	return rep
}

func verifyAll(t *testing.T, url, sourceID string, files []string) *VerifyResult {
	t.Helper()
	cfg := &VerifyConfig{URL: url, AdminToken: testAdminToken, Source: sourceID, Files: files, Wait: 30 * time.Second}
	res, err := Verify(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	return res
}

func errorCounts(errs map[string]ErrorCount) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range errs {
		out[k] = v.Count
	}
	return out
}

const testAdminToken = "crash-test-admin-token"

// server is the real mosaic binary, started and killed by the test.
type server struct {
	t    *testing.T
	bin  string
	data string
	addr string
	out  string // file collecting the output of every start
	cmd  *exec.Cmd
	done chan struct{}
}

// buildServer builds the mosaic binary into dir.
func buildServer(t *testing.T, dir string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the crash test builds the server and needs the go command in PATH: %v", err)
	}
	bin := filepath.Join(dir, "mosaic")
	out, err := exec.Command(goBin, "build", "-o", bin, "github.com/mosaic-cdp/mosaic/cmd/mosaic").CombinedOutput()
	if err != nil {
		t.Fatalf("go build cmd/mosaic: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address with a port that was free just now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (s *server) url() string { return "http://" + s.addr }

// start starts the server and waits until /readyz says it can take writes.
func (s *server) start() {
	s.t.Helper()
	out, err := os.OpenFile(s.out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer out.Close()
	s.cmd = exec.Command(s.bin, "serve", "--data", s.data, "--addr", s.addr)
	s.cmd.Env = append(os.Environ(), "MOSAIC_ADMIN_TOKEN="+testAdminToken)
	s.cmd.Stdout, s.cmd.Stderr = out, out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.bin, err)
	}
	done := make(chan struct{})
	s.done = done
	go func(cmd *exec.Cmd) { cmd.Wait(); close(done) }(s.cmd)
	s.waitReady()
}

// waitReady polls /readyz with a generous timeout: recovery after a crash
// may have to scan the log's tail on a busy machine.
func (s *server) waitReady() {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			s.t.Fatalf("server exited during start-up; output:\n%s", s.output())
		default:
		}
		if resp, err := client.Get(s.url() + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("server not ready after 60s; output:\n%s", s.output())
}

// kill sends SIGKILL: no shutdown, no flush, as in a power cut of the process.
func (s *server) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		s.t.Fatalf("kill server: %v", err)
	}
	<-s.done
}

// stop ends the server gracefully at the end of the test.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	if s.t.Failed() {
		s.t.Logf("server output:\n%s", s.output())
	}
}

func (s *server) output() string {
	b, _ := os.ReadFile(s.out)
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(b)
}

// createTestSource creates the source the load goes to.
func createTestSource(t *testing.T, url string) sourceInfo {
	t.Helper()
	base, err := checkLoopback(url)
	if err != nil {
		t.Fatal(err)
	}
	src, err := newAdminClient(base, testAdminToken).createSource(t.Context(), "crash-test")
	if err != nil {
		t.Fatalf("createSource() = %v", err)
	}
	return src
}
