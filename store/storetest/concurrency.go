package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// workers is how many goroutines each concurrency test runs at once.
const workers = 8

// concurrency tests that the store stays consistent under concurrent use.
func (s suite) concurrency(t *testing.T) {
	t.Run("CreateSources", s.concurrentCreate)
	t.Run("SameName", s.concurrentSameName)
	t.Run("AddRejected", s.concurrentRejected)
	t.Run("SameCommit", s.concurrentSameCommit)
}

// parallel runs f(0) … f(n-1) at once and returns their errors by index.
func parallel(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	return errs
}

func (s suite) concurrentCreate(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	const perWorker = 5
	errs := parallel(workers, func(w int) error {
		for i := range perWorker {
			name := fmt.Sprintf("w%d-%d", w, i)
			if err := st.CreateSource(t.Context(), source(name, at(time.Duration(w*perWorker+i)*time.Second))); err != nil {
				return err
			}
			// Readers run alongside the writers.
			if _, err := st.Sources(t.Context()); err != nil {
				return err
			}
		}
		return nil
	})
	for w, err := range errs {
		checkCode(t, fmt.Sprintf("worker %d", w), err, "")
	}
	list, err := st.Sources(t.Context())
	if err != nil {
		t.Fatalf("Sources() = %v, want nil", err)
	}
	if len(list) != workers*perWorker {
		t.Fatalf("len(Sources()) = %d, want %d", len(list), workers*perWorker)
	}
	for i, src := range list {
		if want := time.Duration(i) * time.Second; !src.CreatedAt.Equal(kept(at(want))) {
			t.Errorf("Sources()[%d].CreatedAt = %v, want %v", i, src.CreatedAt, kept(at(want)))
		}
	}
}

func (s suite) concurrentSameName(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	errs := parallel(workers, func(w int) error {
		return st.CreateSource(t.Context(), &mosaic.Source{
			ID: fmt.Sprintf("s%d", w), Name: "web", WriteKey: fmt.Sprintf("wk%d", w), CreatedAt: base,
		})
	})
	won := 0
	for w, err := range errs {
		if err == nil {
			won++
			continue
		}
		checkCode(t, fmt.Sprintf("worker %d CreateSource", w), err, mosaic.ECONFLICT)
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent CreateSource with one name succeeded, want 1", won, workers)
	}
	if list, err := st.Sources(t.Context()); err != nil || len(list) != 1 {
		t.Errorf("Sources() = %d sources, %v; want 1, nil", len(list), err)
	}
}

func (s suite) concurrentRejected(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	web, app := source("web", base), source("app", base)
	mustCreate(t, st, web, app)
	const batches, perBatch = 5, 3
	errs := parallel(workers, func(w int) error {
		for b := range batches {
			var rs []*mosaic.Rejected
			for i := range perBatch {
				src := []*mosaic.Source{web, app}[(w+i)%2]
				rs = append(rs, reject(src, i, fmt.Sprintf("w%d-b%d-%d", w, b, i)))
			}
			if err := st.AddRejected(t.Context(), rs); err != nil {
				return err
			}
		}
		return nil
	})
	for w, err := range errs {
		checkCode(t, fmt.Sprintf("worker %d AddRejected", w), err, "")
	}
	seenID, seenRaw := map[int64]bool{}, map[string]bool{}
	for _, src := range []*mosaic.Source{web, app} {
		list := listRejected(t, st, src.ID)
		for i, r := range list {
			if i > 0 && r.ID <= list[i-1].ID {
				t.Errorf("Rejected(%q)[%d].ID = %d after %d, want increasing", src.ID, i, r.ID, list[i-1].ID)
			}
			if seenID[r.ID] {
				t.Errorf("Rejected ID %d listed twice", r.ID)
			}
			seenID[r.ID], seenRaw[string(r.Raw)] = true, true
		}
		if got := mustStats(t, st, src.ID); got.Rejected != int64(len(list)) {
			t.Errorf("Stats(%q).Rejected = %d, want %d as listed", src.ID, got.Rejected, len(list))
		}
	}
	if want := workers * batches * perBatch; len(seenRaw) != want {
		t.Errorf("quarantine holds %d distinct events, want %d", len(seenRaw), want)
	}
}

// concurrentSameCommit saves one commit from many goroutines at once, as a
// buggy restart might: it must count once.
func (s suite) concurrentSameCommit(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	errs := parallel(workers, func(int) error {
		return st.SaveDedupe(t.Context(), &store.DedupeCommit{
			Seq: 7, Chunk: chunk(time.Hour, "k"), Duplicates: []uint64{3},
			Counts: map[string]store.Increment{"src_web": {Stored: 5, Duplicates: 1}},
		})
	})
	for w, err := range errs {
		checkCode(t, fmt.Sprintf("worker %d SaveDedupe", w), err, "")
	}
	diff(t, "Stats(src_web)", mustStats(t, st, "src_web"), &mosaic.SourceStats{SourceID: "src_web", Received: 6, Stored: 5, Duplicates: 1})
	seq, chunks := checkpoint(t, st, time.Time{})
	if seq != 7 || len(chunks) != 1 {
		t.Errorf("DedupeCheckpoint() = %d, %d chunks; want 7, 1 chunk", seq, len(chunks))
	}
}
