package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// audit checks the audit log: each append sees the newest entry, appends
// are serial even when concurrent (no forks in the chain), a failed build
// appends nothing, filters select, and ResetDerived keeps the log.
func (s suite) audit(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	appendOne := func(i int, actor string) store.AuditRow {
		t.Helper()
		rows, err := st.AppendAudit(ctx, func(prev store.AuditRow) ([]store.AuditRow, error) {
			data := []byte(fmt.Sprintf(`{"n":%d}`, i))
			return []store.AuditRow{{Time: kept(at(time.Duration(i) * time.Second)), Actor: actor, Action: "GET /x", Object: fmt.Sprintf("/x/%d", i%2),
				Status: 200, Data: data, PrevHash: prev.Hash, Hash: append(append([]byte{}, prev.Hash...), byte(i))}}, nil
		})
		if err != nil || len(rows) != 1 {
			t.Fatalf("AppendAudit(%d) = %d rows, %v, want 1", i, len(rows), err)
		}
		return rows[0]
	}
	// A batch: one call, consecutive IDs, in order.
	batchStore := s.newStore(t)
	batch, err := batchStore.AppendAudit(ctx, func(prev store.AuditRow) ([]store.AuditRow, error) {
		var rows []store.AuditRow
		for i := range 3 {
			rows = append(rows, store.AuditRow{Time: kept(at(time.Second)), Actor: "batch", Action: "GET /b", Object: fmt.Sprintf("/b/%d", i),
				Status: 200, Data: []byte(`{}`), Hash: []byte{byte(i)}})
		}
		return rows, nil
	})
	if err != nil || len(batch) != 3 || batch[0].ID != 1 || batch[2].ID != 3 {
		t.Fatalf("AppendAudit of a batch of 3 = %+v, %v, want IDs 1 to 3", batch, err)
	}
	if got, err := batchStore.AuditLog(ctx, store.AuditQuery{Limit: 10}); err != nil || len(got) != 3 || got[1].Object != "/b/1" {
		t.Fatalf("AuditLog after a batch = %+v, %v, want the 3 in order", got, err)
	}

	if got, err := st.AuditLog(ctx, store.AuditQuery{Limit: 10}); err != nil || len(got) != 0 {
		t.Fatalf("AuditLog of a new store = %v, %v, want none", got, err)
	}
	appendOne(1, "ann")
	var wg sync.WaitGroup
	for i := 2; i <= 9; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); appendOne(i, "bob") }()
	}
	wg.Wait()
	boom := errors.New("boom")
	if _, err := st.AppendAudit(ctx, func(store.AuditRow) ([]store.AuditRow, error) { return nil, boom }); err == nil {
		t.Errorf("AppendAudit with a failing build = nil, want an error")
	}
	all, err := st.AuditLog(ctx, store.AuditQuery{Limit: 100})
	if err != nil || len(all) != 9 {
		t.Fatalf("AuditLog = %d entries, %v, want 9", len(all), err)
	}
	for i, r := range all {
		if r.ID != int64(i+1) {
			t.Errorf("entry %d has ID %d, want %d", i, r.ID, i+1)
		}
		if i > 0 && !bytes.Equal(r.PrevHash, all[i-1].Hash) {
			t.Errorf("entry %d's PrevHash %x is not entry %d's Hash %x: the chain forked", r.ID, r.PrevHash, all[i-1].ID, all[i-1].Hash)
		}
	}
	if all[0].Actor != "ann" || all[0].Status != 200 || string(all[0].Data) != `{"n":1}` || !all[0].Time.Equal(kept(at(time.Second))) {
		t.Errorf("first entry = %+v", all[0])
	}
	for name, c := range map[string]struct {
		q    store.AuditQuery
		want int
	}{
		"actor":  {store.AuditQuery{Actor: "ann", Limit: 100}, 1},
		"after":  {store.AuditQuery{AfterID: 7, Limit: 100}, 2},
		"limit":  {store.AuditQuery{Limit: 3}, 3},
		"object": {store.AuditQuery{ObjectPrefix: "/x/1", Limit: 100}, 5},
		"action": {store.AuditQuery{Action: "GET /y", Limit: 100}, 0},
		"since":  {store.AuditQuery{Since: at(0), Limit: 100}, 9},
	} {
		if got, err := st.AuditLog(ctx, c.q); err != nil || len(got) != c.want {
			t.Errorf("AuditLog by %s = %d entries, %v, want %d", name, len(got), err, c.want)
		}
	}
	if err := st.ResetDerived(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.AuditLog(ctx, store.AuditQuery{Limit: 100}); len(got) != 9 {
		t.Errorf("after ResetDerived the audit log has %d entries, want 9 kept", len(got))
	}
}
