package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestNodeSDKs sends events with the real published Node.js SDKs of Segment
// (@segment/analytics-node, plain JSON) and RudderStack
// (@rudderstack/rudder-sdk-node, gzip), as pinned in package-lock.json.
func TestNodeSDKs(t *testing.T) {
	modules, _ := filepath.Abs("../../node_modules")
	if _, err := exec.LookPath("node"); err != nil || !exists(filepath.Join(modules, "@segment", "analytics-node")) {
		if os.Getenv("CI") != "" {
			t.Fatal("node or the npm packages are missing; scripts/test-env.sh installs them")
		}
		t.Skip("node or node_modules missing: run scripts/test-env.sh (make test does)")
	}
	m := startMain(t)
	src := createSource(t, m, "node")
	cmd := exec.Command("node", "testdata/node-sdks.js", m.URL(), src.WriteKey)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node SDKs: %v\n%s", err, out)
	}
	counts := map[string]int{}
	for _, e := range allEvents(t, m, src.ID, 14) {
		counts[e.Type+"/"+e.Event]++
	}
	want := map[string]int{"identify/": 1, "track/Node Segment Event": 7, "track/Node Rudder Event": 6}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s = %d, want %d (all: %v)", k, counts[k], n, counts)
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
