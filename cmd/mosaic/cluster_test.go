package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// clusterBinary builds the binary once for the cluster tests.
var clusterBinary struct {
	once sync.Once
	path string
	err  error
}

func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	clusterBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "mosaic-cluster-test")
		if err != nil {
			clusterBinary.err = err
			return
		}
		clusterBinary.path = filepath.Join(dir, "mosaic")
		if out, err := exec.Command("go", "build", "-o", clusterBinary.path, ".").CombinedOutput(); err != nil {
			clusterBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if clusterBinary.err != nil {
		t.Fatal(clusterBinary.err)
	}
	return clusterBinary.path
}

// startNode starts a node of a PostgreSQL installation.
func startNode(t *testing.T, bin, pgURL, id string) *serverProc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--data", t.TempDir(), "--addr", addr, "--log-level", "warn",
		"--postgres", pgURL, "--node-id", id, "--lease-time", "1500ms")
	cmd.Env = append(os.Environ(), "MOSAIC_ADMIN_TOKEN="+testToken)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serverProc{cmd: cmd, url: "http://" + addr}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	waitReady(t, s.url)
	return s
}

// clusterView is GET /api/v1/cluster as the tests read it.
type clusterView struct {
	Node   string `json:"node"`
	Leases []struct {
		Holder string `json:"holder"`
		Token  int64  `json:"token"`
	} `json:"leases"`
	Nodes []struct {
		ID string `json:"id"`
	} `json:"nodes"`
	Status struct {
		Role string `json:"role"`
	} `json:"status"`
}

func getCluster(t *testing.T, s *serverProc) clusterView {
	t.Helper()
	status, body := do(t, "GET", s.url+"/api/v1/cluster", adminHeader(), "")
	var v clusterView
	if err := json.Unmarshal(body, &v); status != 200 || err != nil {
		t.Fatalf("GET /api/v1/cluster = %d %s", status, body)
	}
	return v
}

// streamer sends killBatch batches to the live nodes in turn; a batch a
// node does not acknowledge goes to the next node, so every batch is sent
// until one acknowledges it (a retry is deduplicated downstream).
type streamer struct {
	writeKey string
	mu       sync.Mutex
	nodes    []*serverProc
	acked    int // batches 0..acked-1 are acknowledged
	statuses map[int]int
	stop     chan struct{}
	done     chan struct{}
}

func startStream(writeKey string, nodes ...*serverProc) *streamer {
	s := &streamer{writeKey: writeKey, nodes: nodes, statuses: map[int]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *streamer) run() {
	defer close(s.done)
	client := &http.Client{Timeout: 30 * time.Second}
	for b, n := 0, 0; ; n++ {
		select {
		case <-s.stop:
			return
		default:
		}
		s.mu.Lock()
		node := s.nodes[n%len(s.nodes)]
		s.mu.Unlock()
		resp, err := client.Post(node.url+"/v1/batch", "application/json", strings.NewReader(killBatch(s.writeKey, b)))
		status := 0
		if err == nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
		s.mu.Lock()
		s.statuses[status]++
		if status == 200 {
			b++
			s.acked = b
		}
		s.mu.Unlock()
		if status != 200 {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (s *streamer) ackedBatches() int { s.mu.Lock(); defer s.mu.Unlock(); return s.acked }

func (s *streamer) waitAcked(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); s.ackedBatches() < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d batches acknowledged, want %d", s.ackedBatches(), n)
		}
	}
}

// only makes the streamer send to these nodes from now on.
func (s *streamer) only(nodes ...*serverProc) { s.mu.Lock(); s.nodes = nodes; s.mu.Unlock() }

func (s *streamer) finish() (acked int, statuses map[int]int) {
	close(s.stop)
	<-s.done
	return s.acked, s.statuses
}

// checkExactlyOnce checks, through node s, that every acknowledged batch
// is in the deduplicated log once, and that each person's profile counts
// each of their logged events exactly once.
func checkExactlyOnce(t *testing.T, s *serverProc, acked int) {
	t.Helper()
	logged := s.loggedPerUser(t)
	var total int64
	for _, n := range logged {
		total += n
	}
	// killBatch's events all carry an anonymous id; the deduplicated log
	// has each acknowledged one once, and at most the one batch in flight
	// when the stream stopped besides.
	if total < int64(acked*50) || total > int64((acked+1)*50) {
		t.Errorf("deduplicated log holds %d stream events, want %d acknowledged (+ at most 50 in flight)", total, acked*50)
	}
	_, counts := s.dumpUsers(t)
	for ref, n := range logged {
		if counts[ref] != n {
			t.Errorf("profile %s counts %d events, the log has %d for it", ref, counts[ref], n)
		}
	}
}

// TestClusterFailover runs two nodes on one PostgreSQL: both take events
// (the same batch sent to both is seen once); the node running the
// sequential stages is killed with SIGKILL under load; the other takes the
// stages over and nothing acknowledged is lost or applied twice.
func TestClusterFailover(t *testing.T) {
	bin := buildBinary(t)
	pgURL := postgresSchema(t)
	a := startNode(t, bin, pgURL, "a")
	b := startNode(t, bin, pgURL, "b")
	status, body := do(t, "POST", b.url+"/api/v1/sources", adminHeader(), `{"name":"shop"}`)
	if status != 201 {
		t.Fatalf("create source on a follower = %d %s", status, body)
	}
	var src testSource
	_ = json.Unmarshal(body, &src)

	st := startStream(src.WriteKey, a, b)
	st.waitAcked(t, 20)
	// The same batch through both nodes: in the log twice, counted once.
	for _, n := range []*serverProc{a, b} {
		if status, body := do(t, "POST", n.url+"/v1/batch", map[string][]string{"Content-Type": {"application/json"}}, killBatch(src.WriteKey, 0)); status != 200 {
			t.Fatalf("resend batch 0 to %s = %d %s", n.url, status, body)
		}
	}
	st.waitAcked(t, 40)

	va, vb := getCluster(t, a), getCluster(t, b)
	if len(va.Nodes) != 2 || len(va.Leases) != 1 || va.Leases[0].Holder != vb.Leases[0].Holder {
		t.Fatalf("cluster views: a %+v, b %+v; want two nodes agreeing on one lease holder", va, vb)
	}
	leader, survivor := a, b
	if va.Leases[0].Holder == "b" {
		leader, survivor = b, a
	}
	oldToken := va.Leases[0].Token
	if err := leader.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = leader.cmd.Process.Wait()
	st.only(survivor)
	st.waitAcked(t, st.ackedBatches()+20)
	acked, statuses := st.finish()

	survivor.settle(t, src.WriteKey, "sentinel-failover")
	v := getCluster(t, survivor)
	if v.Status.Role != "leader" || v.Leases[0].Holder != v.Node || v.Leases[0].Token <= oldToken {
		t.Errorf("after the kill the survivor's view = %+v, want it leading with a token above %d", v, oldToken)
	}
	checkExactlyOnce(t, survivor, acked)
	t.Logf("acknowledged %d batches; responses by status: %v", acked, statuses)
}

// TestClusterDatabaseOutage cuts every connection of two nodes to
// PostgreSQL again and again under load: requests get 503 (never another
// error), the nodes recover by themselves, and nothing acknowledged is
// lost or applied twice.
func TestClusterDatabaseOutage(t *testing.T) {
	bin := buildBinary(t)
	app := fmt.Sprintf("mosaic_outage_%d", time.Now().UnixNano())
	pgURL := postgresSchema(t) + "&application_name=" + app
	a := startNode(t, bin, pgURL, "a")
	b := startNode(t, bin, pgURL, "b")
	status, body := do(t, "POST", a.url+"/api/v1/sources", adminHeader(), `{"name":"shop"}`)
	if status != 201 {
		t.Fatalf("create source = %d %s", status, body)
	}
	var src testSource
	_ = json.Unmarshal(body, &src)
	st := startStream(src.WriteKey, a, b)
	st.waitAcked(t, 10)

	// Only this test's connections: they carry its application_name.
	terminate := fmt.Sprintf(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '%s'`, app)
	for range 20 {
		if out, err := exec.Command("psql", os.Getenv("MOSAIC_TEST_POSTGRES_URL"), "-qAtc", terminate).CombinedOutput(); err != nil {
			t.Fatalf("psql: %v: %s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	st.waitAcked(t, st.ackedBatches()+20)
	acked, statuses := st.finish()
	for code := range statuses {
		if code != 200 && code != 503 {
			t.Errorf("during the outage a request got %d (%d times), want only 200 or 503", code, statuses[code])
		}
	}
	a.settle(t, src.WriteKey, "sentinel-outage")
	checkExactlyOnce(t, a, acked)
	t.Logf("acknowledged %d batches; responses by status: %v", acked, statuses)
}
