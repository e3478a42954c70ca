package main

import (
	"path/filepath"
	"testing"
)

// TestJourneysReachTheRealServer sends synthetic journeys to the real
// mosaic binary: the Tracking API must accept every message (none
// rejected), and the event log must hold each one once.
func TestJourneysReachTheRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the real server; skipped with -short")
	}
	dir := t.TempDir()
	srv := &server{t: t, bin: buildServer(t, dir), data: filepath.Join(dir, "data"), addr: freeAddr(t), out: filepath.Join(dir, "server.log")}
	srv.start()
	t.Cleanup(srv.stop)
	src := createTestSource(t, srv.url())
	record := filepath.Join(dir, "acked.txt")
	rep := runLoad(t, []string{"run", "-url", srv.url(), "-write-key", src.WriteKey, "-journeys", "300",
		"-seed", "11", "-batch", "100", "-concurrency", "4", "-record", record, "-json", "-progress", "0"})
	want := len(messageIDs(t, runGen(t, "-people", "300", "-seed", "11")))
	if len(rep.Errors) != 0 || rep.AckedEvents != uint64(want) || !rep.JourneysComplete {
		t.Fatalf("run -journeys 300 = %d acknowledged, complete %v, errors %v; want all %d accepted",
			rep.AckedEvents, rep.JourneysComplete, rep.Errors, want)
	}
	res := verifyAll(t, srv.url(), src.ID, []string{record})
	if !res.OK() || res.Found != want {
		t.Errorf("event log after journeys: found %d of %d, missing %d, duplicated %d", res.Found, want, res.Missing, res.Duplicated)
	}
}
