package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// dedupe tests DedupeCheckpoint, SaveDedupe and Duplicates.
func (s suite) dedupe(t *testing.T) {
	t.Run("Empty", s.dedupeEmpty)
	t.Run("Checkpoint", s.dedupeCheckpoint)
	t.Run("Replay", s.dedupeReplay)
	t.Run("Expire", s.dedupeExpire)
	t.Run("Duplicates", s.dedupeDuplicates)
	t.Run("Invalid", s.dedupeInvalid)
	t.Run("KeysExact", s.dedupeKeysExact)
}

// mustSave saves a dedupe commit or fails t.
func mustSave(t *testing.T, st store.Store, c *store.DedupeCommit) {
	t.Helper()
	if err := st.SaveDedupe(t.Context(), c); err != nil {
		t.Fatalf("SaveDedupe(seq %d) = %v, want nil", c.Seq, err)
	}
}

// checkpoint returns the dedupe checkpoint or fails t.
func checkpoint(t *testing.T, st store.Store, keptSince time.Time) (uint64, []store.DedupeChunk) {
	t.Helper()
	seq, chunks, err := st.DedupeCheckpoint(t.Context(), keptSince)
	if err != nil {
		t.Fatalf("DedupeCheckpoint(%v) = %v, want nil", keptSince, err)
	}
	for i, c := range chunks {
		checkUTC(t, fmt.Sprintf("chunk %d Newest", i), c.Newest)
	}
	return seq, chunks
}

// duplicates returns Duplicates(after, upto) or fails t.
func duplicates(t *testing.T, st store.Store, after, upto uint64) map[uint64]bool {
	t.Helper()
	got, err := st.Duplicates(t.Context(), after, upto)
	if err != nil {
		t.Fatalf("Duplicates(%d, %d) = %v, want nil", after, upto, err)
	}
	if got == nil {
		t.Errorf("Duplicates(%d, %d) = nil map, want a map", after, upto)
	}
	return got
}

// chunk returns a key chunk with newest at base+d holding keys.
func chunk(d time.Duration, keys string) store.DedupeChunk {
	return store.DedupeChunk{Newest: at(d), Keys: []byte(keys)}
}

// keptChunks returns chunks as the store gives them back.
func keptChunks(chunks ...store.DedupeChunk) []store.DedupeChunk {
	var out []store.DedupeChunk
	for _, c := range chunks {
		out = append(out, store.DedupeChunk{Newest: kept(c.Newest), Keys: c.Keys})
	}
	return out
}

func (s suite) dedupeEmpty(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	seq, chunks := checkpoint(t, st, time.Time{})
	if seq != 0 || len(chunks) != 0 {
		t.Errorf("DedupeCheckpoint() of an empty store = %d, %d chunks; want 0, 0 chunks", seq, len(chunks))
	}
	diff(t, "Duplicates(0, 100)", duplicates(t, st, 0, 100), map[uint64]bool{})
}

func (s suite) dedupeCheckpoint(t *testing.T) {
	// Newest times deliberately out of save order: chunks come back in the
	// order saved, filtered by Newest.
	c1, c2, c4 := chunk(time.Hour, "k1"), chunk(3*time.Hour, "k2"), chunk(2*time.Hour, "k4")
	tests := []struct {
		name      string
		keptSince time.Time
		want      []store.DedupeChunk
	}{
		{"zero time keeps all", time.Time{}, keptChunks(c1, c2, c4)},
		{"at the oldest", at(time.Hour), keptChunks(c1, c2, c4)},
		{"just after the oldest", at(time.Hour + time.Microsecond), keptChunks(c2, c4)},
		{"at the middle", at(2 * time.Hour), keptChunks(c2, c4)},
		{"at the newest", at(3 * time.Hour), keptChunks(c2)},
		{"after all", at(4 * time.Hour), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			mustSave(t, st, &store.DedupeCommit{Seq: 10, Chunk: c1})
			mustSave(t, st, &store.DedupeCommit{Seq: 20, Chunk: c2})
			mustSave(t, st, &store.DedupeCommit{Seq: 30}) // no keys: no chunk
			mustSave(t, st, &store.DedupeCommit{Seq: 40, Chunk: c4})
			seq, got := checkpoint(t, st, tt.keptSince)
			if seq != 40 {
				t.Errorf("DedupeCheckpoint() seq = %d, want 40", seq)
			}
			diff(t, "DedupeCheckpoint() chunks", got, tt.want)
		})
	}
}

func (s suite) dedupeReplay(t *testing.T) {
	tests := []struct {
		name string
		seq  uint64
	}{
		{"same seq", 20},
		{"older seq", 10},
		{"zero seq", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			mustSave(t, st, &store.DedupeCommit{Seq: 10, Chunk: chunk(time.Hour, "a"), Duplicates: []uint64{5},
				Counts: map[string]store.Increment{"src_web": {Stored: 4, Duplicates: 1}}})
			mustSave(t, st, &store.DedupeCommit{Seq: 20, Chunk: chunk(2*time.Hour, "b"), Duplicates: []uint64{15}})
			replay := &store.DedupeCommit{
				Seq: tt.seq, Chunk: chunk(3*time.Hour, "replayed"), Duplicates: []uint64{tt.seq},
				Counts:       map[string]store.Increment{"src_web": {Stored: 100, Duplicates: 100}},
				ExpireBefore: at(10 * time.Hour),
			}
			mustSave(t, st, replay)
			seq, chunks := checkpoint(t, st, time.Time{})
			if seq != 20 {
				t.Errorf("DedupeCheckpoint() seq = %d, want 20", seq)
			}
			diff(t, "DedupeCheckpoint() chunks", chunks, keptChunks(chunk(time.Hour, "a"), chunk(2*time.Hour, "b")))
			diff(t, "Duplicates(0, 100)", duplicates(t, st, 0, 100), map[uint64]bool{5: true, 15: true})
			diff(t, "Stats(src_web)", mustStats(t, st, "src_web"), &mosaic.SourceStats{SourceID: "src_web", Received: 5, Stored: 4, Duplicates: 1})
		})
	}
}

func (s suite) dedupeExpire(t *testing.T) {
	tests := []struct {
		name   string
		expire time.Time
		want   []store.DedupeChunk
	}{
		{"zero time drops nothing", time.Time{}, keptChunks(chunk(time.Hour, "a"), chunk(3*time.Hour, "b"), chunk(2*time.Hour, "c"), chunk(4*time.Hour, "new"))},
		{"before all", at(time.Hour), keptChunks(chunk(time.Hour, "a"), chunk(3*time.Hour, "b"), chunk(2*time.Hour, "c"), chunk(4*time.Hour, "new"))},
		{"drops older", at(2 * time.Hour), keptChunks(chunk(3*time.Hour, "b"), chunk(2*time.Hour, "c"), chunk(4*time.Hour, "new"))},
		{"drops by newest, not order", at(3 * time.Hour), keptChunks(chunk(3*time.Hour, "b"), chunk(4*time.Hour, "new"))},
		{"drops the new chunk too", at(5 * time.Hour), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			mustSave(t, st, &store.DedupeCommit{Seq: 1, Chunk: chunk(time.Hour, "a")})
			mustSave(t, st, &store.DedupeCommit{Seq: 2, Chunk: chunk(3*time.Hour, "b")})
			mustSave(t, st, &store.DedupeCommit{Seq: 3, Chunk: chunk(2*time.Hour, "c")})
			mustSave(t, st, &store.DedupeCommit{Seq: 4, Chunk: chunk(4*time.Hour, "new"), ExpireBefore: tt.expire})
			seq, got := checkpoint(t, st, time.Time{})
			if seq != 4 {
				t.Errorf("DedupeCheckpoint() seq = %d, want 4", seq)
			}
			diff(t, "DedupeCheckpoint() chunks", got, tt.want)
		})
	}
}

func (s suite) dedupeDuplicates(t *testing.T) {
	tests := []struct {
		after, upto uint64
		want        []uint64
	}{
		{0, 10, []uint64{3, 5, 7, 10}},
		{0, 100, []uint64{3, 5, 7, 10}},
		{3, 7, []uint64{5, 7}},
		{2, 3, []uint64{3}},
		{3, 4, nil},
		{10, 20, nil},
		{5, 5, nil},
		{7, 3, nil},
	}
	st := s.newStore(t)
	// 7 twice: a repeated duplicate within a commit is harmless.
	mustSave(t, st, &store.DedupeCommit{Seq: 6, Duplicates: []uint64{3, 5}})
	mustSave(t, st, &store.DedupeCommit{Seq: 12, Duplicates: []uint64{10, 7, 7}})
	for _, tt := range tests {
		t.Run(fmt.Sprintf("(%d,%d]", tt.after, tt.upto), func(t *testing.T) {
			want := map[uint64]bool{}
			for _, seq := range tt.want {
				want[seq] = true
			}
			diff(t, fmt.Sprintf("Duplicates(%d, %d)", tt.after, tt.upto), duplicates(t, st, tt.after, tt.upto), want)
		})
	}
}

func (s suite) dedupeInvalid(t *testing.T) {
	tests := []struct {
		name string
		dups []uint64
	}{
		{"duplicate after the commit", []uint64{15, 21}},
		{"duplicate at the stored position", []uint64{10}},
		{"duplicate before the stored position", []uint64{3}},
		{"duplicate zero", []uint64{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			mustSave(t, st, &store.DedupeCommit{Seq: 10, Duplicates: []uint64{4}})
			err := st.SaveDedupe(t.Context(), &store.DedupeCommit{
				Seq: 20, Chunk: chunk(time.Hour, "k"), Duplicates: tt.dups,
				Counts: map[string]store.Increment{"src_web": {Stored: 1}},
			})
			checkCode(t, "SaveDedupe", err, mosaic.EINVALID)
			if seq, chunks := checkpoint(t, st, time.Time{}); seq != 10 || len(chunks) != 0 {
				t.Errorf("after a refused commit, DedupeCheckpoint() = %d, %d chunks; want 10, 0 chunks", seq, len(chunks))
			}
			diff(t, "Duplicates(0, 100)", duplicates(t, st, 0, 100), map[uint64]bool{4: true})
			if got := mustStats(t, st, "src_web"); got.Stored != 0 {
				t.Errorf("after a refused commit, Stats().Stored = %d, want 0", got.Stored)
			}
		})
	}
}

func (s suite) dedupeKeysExact(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	keys := make([]byte, 1<<20)
	for i := range keys {
		keys[i] = byte(i * 7)
	}
	keys[0], keys[len(keys)-1] = 0, 0
	mustSave(t, st, &store.DedupeCommit{Seq: 1, Chunk: store.DedupeChunk{Newest: base, Keys: bytes.Clone(keys)}})
	_, got := checkpoint(t, st, time.Time{})
	if len(got) != 1 || !bytes.Equal(got[0].Keys, keys) {
		t.Errorf("DedupeCheckpoint() did not return the saved %d-byte chunk byte for byte", len(keys))
	}
}
