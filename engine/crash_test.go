package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/dedupe"
	"github.com/mosaic-cdp/mosaic/store"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

// crashMsgs returns a log's worth of events with many repeats, from two
// sources sharing messageIds: a first phase that crosses midnight (a new
// index generation), a second ten days later (past the window: repeats of
// the first phase are new again), a third two days after that (repeats of
// the second are duplicates).
func crashMsgs() []msg {
	r := rand.New(rand.NewPCG(7, 11))
	var msgs []msg
	phase := func(n int, from time.Duration) {
		for i := range n {
			src := []string{"src_a", "src_b"}[r.IntN(2)]
			msgs = append(msgs, msg{src, fmt.Sprintf("m%d", r.IntN(70)), from + time.Duration(i)*20*time.Second})
		}
	}
	phase(150, 0)
	phase(150, 10*day)
	phase(100, 12*day)
	return msgs
}

// TestCrashRecovery kills the dedupe stage between checkpoints (Run returns
// without its final checkpoint, as if the process died), reopens the log and
// the store as a restarted process would, and checks that the new engine,
// replaying from the last checkpoint, shows every message exactly as an
// engine that never crashed would: each once, counters exact.
func TestCrashRecovery(t *testing.T) {
	msgs := crashMsgs()
	tests := []struct {
		name    string
		crashAt uint64        // crash after the batch that reaches this seq
		restart time.Duration // wall clock of the restart, after base
	}{
		{"before the first checkpoint", 20, 0},
		{"just before midnight", 85, 0},
		{"just after midnight", 100, 0},
		{"in the second phase", 260, 10 * day},
		{"near the end", 390, 12 * day},
		{"restart weeks later", 260, 40 * day},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logDir, dbPath := t.TempDir(), filepath.Join(t.TempDir(), "mosaic.db")
			l, st := openLog(t, logDir), openStoreAt(t, dbPath)
			appendMsgs(t, l, msgs)

			e := New(l, st, Options{CheckpointEvery: time.Hour, CheckpointMaxEvents: 50})
			e.batchSize = 16
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			e.afterBatch = func(seq uint64) {
				if seq >= tt.crashAt {
					e.crash.Store(true)
					cancel()
				}
			}
			if err := e.Run(ctx); err != nil {
				t.Fatalf("Run() = %v, want nil", err)
			}
			saved := checkpointSeq(t, st)
			if saved >= e.Processed() {
				t.Fatalf("checkpoint at seq %d, processed %d: the crash lost nothing, so nothing is replayed", saved, e.Processed())
			}
			l.Close()
			st.Close()

			l, st = openLog(t, logDir), openStoreAt(t, dbPath)
			r := start(t, New(l, st, Options{Now: func() time.Time { return base.Add(tt.restart) }}))
			catchUp(t, r.Engine, l)
			checkAgainstReference(t, r.Engine, msgs)

			if err := r.stop(t); err != nil {
				t.Fatalf("Run() after the restart = %v, want nil", err)
			}
			if got, want := checkpointSeq(t, st), l.LastSeq(); got != want {
				t.Errorf("checkpoint after a clean stop at seq %d, want %d", got, want)
			}
			checkChunkDays(t, st, msgs)
			// Everything now comes from the store.
			e = start(t, New(l, st, Options{})).Engine
			catchUp(t, e, l)
			checkAgainstReference(t, e, msgs)
		})
	}
}

// openStoreAt opens the SQLite store at path, closed when t ends.
func openStoreAt(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open(%q) = %v, want nil", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// checkChunkDays checks that every saved key chunk holds keys first received
// on one day, the day of its Newest: the index's generations are days, and a
// chunk spanning two would put keys back in the wrong one on reload. Times in
// msgs only move forward, so a key's generation is the day it was received.
func checkChunkDays(t *testing.T, st store.Store, msgs []msg) {
	t.Helper()
	_, chunks, err := st.DedupeCheckpoint(t.Context(), time.Time{})
	if err != nil {
		t.Fatalf("DedupeCheckpoint() = %v", err)
	}
	received := map[dedupe.Key]time.Time{}
	for _, m := range msgs {
		k := dedupe.KeyOf(m.src, m.id)
		if _, ok := received[k]; !ok || base.Add(m.at).Sub(received[k]) >= DefaultOptions().Window {
			received[k] = base.Add(m.at)
		}
	}
	for i, c := range chunks {
		for b := c.Keys; len(b) > 0; b = b[dedupe.KeySize:] {
			k := dedupe.Key(b[:dedupe.KeySize])
			if got, want := received[k].Truncate(day), c.Newest.Truncate(day); !got.Equal(want) {
				t.Errorf("chunk %d (Newest %v) holds a key received on %v, want only keys of %v", i, c.Newest, got, want)
			}
		}
	}
}
