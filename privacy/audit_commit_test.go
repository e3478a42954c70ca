package privacy

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

func newAuditStore(t *testing.T) *sqlite.DB {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sqlite.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func storedActions(t *testing.T, st store.AuditStore) []string {
	t.Helper()
	rows, err := st.AuditLog(context.Background(), store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Action)
	}
	return out
}

// Reads are held back to share a commit, but never left behind: with no
// Record and no Flush they are still stored.
func TestAuditReadsStoredWithoutFlush(t *testing.T) {
	st := newAuditStore(t)
	a := NewAuditor(st, []byte("key"), nil)
	for i := range 3 {
		a.Enqueue(AuditEntry{Actor: "admin", Action: fmt.Sprintf("GET read-%d", i)})
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(storedActions(t, st)) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("stored %v, want the 3 reads without a Flush", storedActions(t, st))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A Record takes the reads pending before it along, in order, and returns
// only once all of them are stored.
func TestAuditRecordTakesPendingReads(t *testing.T) {
	st := newAuditStore(t)
	a := NewAuditor(st, []byte("key"), nil)
	a.Enqueue(AuditEntry{Actor: "admin", Action: "GET one"})
	a.Enqueue(AuditEntry{Actor: "admin", Action: "GET two"})
	e, err := a.Record(context.Background(), AuditEntry{Actor: "admin", Action: "POST three"})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != 3 {
		t.Errorf("Record's entry has ID %d, want 3 (after the two reads)", e.ID)
	}
	got := storedActions(t, st)
	if fmt.Sprint(got) != "[GET one GET two POST three]" {
		t.Errorf("stored %v right after Record, want the reads and then the write", got)
	}
}

// Many writers and readers at once: every entry is stored once, the chain
// verifies, and Flush returns only when the last read is stored.
func TestAuditConcurrentRecordsAndReads(t *testing.T) {
	st := newAuditStore(t)
	a := NewAuditor(st, []byte("key"), nil)
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if i%10 == 0 {
					if _, err := a.Record(context.Background(), AuditEntry{Actor: "admin", Action: fmt.Sprintf("POST %d-%d", w, i)}); err != nil {
						t.Error(err)
					}
					continue
				}
				a.Enqueue(AuditEntry{Actor: "admin", Action: fmt.Sprintf("GET %d-%d", w, i)})
			}
		})
	}
	wg.Wait()
	a.Flush()
	got := storedActions(t, st)
	if len(got) != workers*each {
		t.Fatalf("stored %d entries, want %d", len(got), workers*each)
	}
	seen := map[string]bool{}
	for _, action := range got {
		if seen[action] {
			t.Fatalf("%q stored twice", action)
		}
		seen[action] = true
	}
	if n, err := a.Verify(context.Background()); err != nil || n != workers*each {
		t.Fatalf("Verify = %d, %v; want %d, nil", n, err, workers*each)
	}
}
