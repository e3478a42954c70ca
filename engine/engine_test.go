package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
	"github.com/prometheus/client_golang/prometheus"
)

func TestDedupe(t *testing.T) {
	tests := []struct {
		name string
		msgs []msg
		want []uint64 // seqs readers see
	}{
		{"retries are kept once", []msg{
			{"src_a", "m1", 0}, {"src_a", "m1", time.Second}, {"src_a", "m2", 2 * time.Second}, {"src_a", "m1", time.Hour},
		}, []uint64{1, 3}},
		{"same messageId from another source is not a duplicate", []msg{
			{"src_a", "m1", 0}, {"src_b", "m1", 0}, {"src_b", "m1", time.Second},
		}, []uint64{1, 2}},
		{"repeat within the window, days later", []msg{
			{"src_a", "m1", 0}, {"src_a", "m2", 3 * day}, {"src_a", "m1", 6 * day},
		}, []uint64{1, 2}},
		{"repeat after the window is new again", []msg{
			{"src_a", "m1", 0}, {"src_a", "m1", 9 * day}, {"src_a", "m1", 9*day + time.Second},
		}, []uint64{1, 2}},
		{"repeat received earlier than the first copy", []msg{
			{"src_a", "m1", time.Hour}, {"src_a", "m2", 2 * time.Hour}, {"src_a", "m1", 30 * time.Minute},
		}, []uint64{1, 2}},
		{"messageId that differs only in case", []msg{
			{"src_a", "M1", 0}, {"src_a", "m1", 0},
		}, []uint64{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, st := openLog(t, ""), openStore(t)
			appendMsgs(t, l, tt.msgs)
			e := start(t, New(l, st, Options{}))
			catchUp(t, e.Engine, l)
			var got []uint64
			for _, s := range allEvents(t, e.Engine, EventQuery{}) {
				got = append(got, s.Seq)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("seqs of Events() mismatch (-want +got):\n%s", diff)
			}
			checkAgainstReference(t, e.Engine, tt.msgs)
		})
	}
}

func TestEventsPaging(t *testing.T) {
	t.Parallel()
	l, st := openLog(t, ""), openStore(t)
	var msgs []msg
	for i := range 60 {
		src := []string{"src_a", "src_b", "src_c"}[i%3]
		msgs = append(msgs, msg{src, fmt.Sprintf("m%d", i/2), time.Duration(i) * time.Second})
	}
	appendMsgs(t, l, msgs)
	e := start(t, New(l, st, Options{})).Engine
	catchUp(t, e, l)
	want, _ := reference(msgs, day)
	for _, src := range []string{"", "src_a", "src_b", "src_unknown"} {
		for _, limit := range []int{1, 3, 7, 1000} {
			t.Run(fmt.Sprintf("source %q limit %d", src, limit), func(t *testing.T) {
				var wantSrc []seen
				for _, s := range want {
					if src == "" || s.Src == src {
						wantSrc = append(wantSrc, s)
					}
				}
				if diff := cmp.Diff(wantSrc, allEvents(t, e, EventQuery{SourceID: src, Limit: limit})); diff != "" {
					t.Errorf("Events(source %q, limit %d) mismatch (-want +got):\n%s", src, limit, diff)
				}
			})
		}
	}
}

func TestEventsPage(t *testing.T) {
	t.Parallel()
	l, st := openLog(t, ""), openStore(t)
	appendMsgs(t, l, []msg{{"src_a", "m1", 0}, {"src_b", "m1", 0}, {"src_a", "m1", 1}, {"src_a", "m2", 2}, {"src_b", "m3", 3}})
	e := start(t, New(l, st, Options{})).Engine
	catchUp(t, e, l)
	tests := []struct {
		q        EventQuery
		wantSeqs []uint64
		wantNext uint64
	}{
		{EventQuery{}, []uint64{1, 2, 4, 5}, 5},
		{EventQuery{Limit: 2}, []uint64{1, 2}, 2},
		{EventQuery{After: 2, Limit: 1}, []uint64{4}, 4}, // seq 3 is a duplicate
		{EventQuery{After: 1, SourceID: "src_a"}, []uint64{4}, 5},
		{EventQuery{After: 5}, nil, 5},
		{EventQuery{After: 99}, nil, 99},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+v", tt.q), func(t *testing.T) {
			evs, next, err := e.Events(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("Events(%+v) = %v, want nil", tt.q, err)
			}
			var seqs []uint64
			for _, ev := range evs {
				seqs = append(seqs, ev.Seq)
				if want := fmt.Sprintf(`{"messageId":%q,"type":"track","event":"Order Completed"}`, ev.MessageID); string(ev.Message) != want {
					t.Errorf("Events(%+v): seq %d Message = %s, want %s", tt.q, ev.Seq, ev.Message, want)
				}
			}
			if diff := cmp.Diff(tt.wantSeqs, seqs); diff != "" || next != tt.wantNext {
				t.Errorf("Events(%+v) = seqs %v, next %d; want %v, %d", tt.q, seqs, next, tt.wantSeqs, tt.wantNext)
			}
		})
	}
}

func TestEventsLimits(t *testing.T) {
	t.Parallel()
	l, st := openLog(t, ""), openStore(t)
	msgs := make([]msg, MaxEventsScan+200)
	for i := range msgs {
		msgs[i] = msg{"src_busy", fmt.Sprintf("m%d", i), 0}
	}
	msgs[len(msgs)-1].src = "src_rare"
	appendMsgs(t, l, msgs)
	e := start(t, New(l, st, Options{})).Engine
	catchUp(t, e, l)

	t.Run("limit capped", func(t *testing.T) {
		evs, next, err := e.Events(t.Context(), EventQuery{Limit: 5000})
		if err != nil || len(evs) != MaxEventsLimit || next != MaxEventsLimit {
			t.Errorf("Events(limit 5000) = %d events, next %d, %v; want %d, %d, nil", len(evs), next, err, MaxEventsLimit, MaxEventsLimit)
		}
	})
	t.Run("default limit", func(t *testing.T) {
		evs, _, err := e.Events(t.Context(), EventQuery{})
		if err != nil || len(evs) != DefaultEventsLimit {
			t.Errorf("Events() = %d events, %v; want %d, nil", len(evs), err, DefaultEventsLimit)
		}
	})
	t.Run("scan bounded", func(t *testing.T) {
		evs, next, err := e.Events(t.Context(), EventQuery{SourceID: "src_rare"})
		if err != nil || len(evs) != 0 || next != MaxEventsScan {
			t.Fatalf("Events(src_rare) = %d events, next %d, %v; want 0, %d, nil", len(evs), next, err, MaxEventsScan)
		}
		evs, next, err = e.Events(t.Context(), EventQuery{SourceID: "src_rare", After: next})
		if err != nil || len(evs) != 1 || evs[0].Seq != uint64(len(msgs)) || next != uint64(len(msgs)) {
			t.Errorf("Events(src_rare, after %d) = %v, next %d, %v; want seq %d, next %d", MaxEventsScan, evs, next, err, len(msgs), len(msgs))
		}
	})
}

func TestEventsNeverPastProcessed(t *testing.T) {
	t.Parallel()
	l, st := openLog(t, ""), openStore(t)
	appendMsgs(t, l, []msg{{"src_a", "m1", 0}, {"src_a", "m1", 0}})
	e := New(l, st, Options{})
	if evs, next, err := e.Events(t.Context(), EventQuery{}); err != nil || len(evs) != 0 || next != 0 {
		t.Fatalf("Events() before Run = %d events, next %d, %v; want 0, 0, nil", len(evs), next, err)
	}
	start(t, e)
	catchUp(t, e, l)
	if got := allEvents(t, e, EventQuery{}); len(got) != 1 {
		t.Errorf("Events() after Run = %v, want one event", got)
	}
}

func TestWaitProcessed(t *testing.T) {
	t.Parallel()
	l, st := openLog(t, ""), openStore(t)
	e := start(t, New(l, st, Options{})).Engine

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := e.WaitProcessed(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitProcessed(1) on an empty log = %v, want %v", err, context.DeadlineExceeded)
	}
	done := make(chan error, 1)
	go func() { done <- e.WaitProcessed(t.Context(), 3) }()
	appendMsgs(t, l, []msg{{"src_a", "m1", 0}})
	appendMsgs(t, l, []msg{{"src_a", "m2", 0}, {"src_a", "m3", 0}})
	select {
	case err := <-done:
		if err != nil || e.Processed() < 3 {
			t.Errorf("WaitProcessed(3) = %v with Processed() = %d, want nil with at least 3", err, e.Processed())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("WaitProcessed(3) still waiting 10s after 3 events were appended; Processed() = %d", e.Processed())
	}
	if err := e.WaitProcessed(t.Context(), 2); err != nil {
		t.Errorf("WaitProcessed(2) after 3 = %v, want nil", err)
	}
}

func TestStatsBeforeCheckpoint(t *testing.T) {
	t.Parallel()
	l, st := openLog(t, ""), openStore(t)
	msgs := []msg{{"src_a", "m1", 0}, {"src_a", "m1", 0}, {"src_a", "m2", 0}}
	appendMsgs(t, l, msgs)
	r := start(t, New(l, st, Options{CheckpointEvery: time.Hour}))
	catchUp(t, r.Engine, l)
	want := &mosaic.SourceStats{SourceID: "src_a", Received: 3, Stored: 2, Duplicates: 1}
	if diff := cmp.Diff(want, stats(t, r.Engine, "src_a")); diff != "" {
		t.Errorf("Stats(src_a) before a checkpoint mismatch (-want +got):\n%s", diff)
	}
	if seq := checkpointSeq(t, st); seq != 0 {
		t.Fatalf("checkpoint at seq %d within the hour, want none: the test needs the counts in memory", seq)
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	got, err := st.Stats(t.Context(), "src_a")
	if err != nil {
		t.Fatalf("store Stats(src_a) = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("store Stats(src_a) after the final checkpoint mismatch (-want +got):\n%s", diff)
	}
}

func TestCheckpointRetried(t *testing.T) {
	t.Parallel()
	l := openLog(t, "")
	st := &failingStore{Store: openStore(t)}
	st.fail.Store(3)
	msgs := []msg{{"src_a", "m1", 0}, {"src_a", "m1", 0}, {"src_a", "m2", 0}}
	appendMsgs(t, l, msgs)
	reg := prometheus.NewRegistry()
	r := start(t, New(l, st, Options{CheckpointEvery: time.Millisecond, Registerer: reg}))
	catchUp(t, r.Engine, l)
	// Keep writing until a checkpoint has gone through the failures.
	deadline := time.Now().Add(10 * time.Second)
	for checkpointSeq(t, st) < l.LastSeq() {
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint still at seq %d 10s after a store recovering from 3 failures", checkpointSeq(t, st))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := metric(t, reg, "mosaic_dedupe_checkpoint_errors_total"); got != 3 {
		t.Errorf("mosaic_dedupe_checkpoint_errors_total = %v, want 3", got)
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	// A fresh engine sees only what the store kept: the retried commit must
	// have carried the keys of the failed ones.
	appendMsgs(t, l, []msg{{"src_a", "m1", time.Second}, {"src_a", "m2", time.Second}})
	e := start(t, New(l, st, Options{})).Engine
	catchUp(t, e, l)
	checkAgainstReference(t, e, append(msgs, msg{"src_a", "m1", time.Second}, msg{"src_a", "m2", time.Second}))
}

func TestCorruptRecordSkipped(t *testing.T) {
	t.Parallel()
	l, st := openLog(t, ""), openStore(t)
	appendMsgs(t, l, []msg{{"src_a", "m1", 0}})
	if _, err := l.Append(t.Context(), [][]byte{[]byte("not an event")}); err != nil {
		t.Fatalf("Append = %v", err)
	}
	appendMsgs(t, l, []msg{{"src_a", "m1", 0}, {"src_a", "m2", 0}})
	reg := prometheus.NewRegistry()
	e := start(t, New(l, st, Options{Registerer: reg})).Engine
	catchUp(t, e, l)
	if diff := cmp.Diff([]seen{{1, "src_a", "m1"}, {4, "src_a", "m2"}}, allEvents(t, e, EventQuery{})); diff != "" {
		t.Errorf("Events() mismatch (-want +got):\n%s", diff)
	}
	if got := metric(t, reg, "mosaic_dedupe_corrupt_records_total"); got != 1 {
		t.Errorf("mosaic_dedupe_corrupt_records_total = %v, want 1", got)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	l, st := openLog(t, ""), openStore(t)
	appendMsgs(t, l, []msg{{"src_a", "m1", 0}, {"src_a", "m1", 0}, {"src_b", "m1", 0}, {"src_b", "m1", 0}, {"src_b", "m2", 0}})
	reg := prometheus.NewRegistry()
	r := start(t, New(l, st, Options{Registerer: reg}))
	catchUp(t, r.Engine, l)
	if err := r.stop(t); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	appendMsgs(t, l, []msg{{"src_a", "m9", 0}, {"src_a", "m10", 0}})
	tests := []struct {
		name string
		want float64
	}{
		{"mosaic_dedupe_processed_seq", 5},
		{"mosaic_dedupe_lag_records", 2}, // appended after the engine stopped
		{"mosaic_dedupe_duplicates_total", 2},
		{"mosaic_dedupe_keys", 3},
		{"mosaic_dedupe_corrupt_records_total", 0},
		{"mosaic_dedupe_checkpoint_errors_total", 0},
	}
	for _, tt := range tests {
		if got := metric(t, reg, tt.name); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := metric(t, reg, "mosaic_dedupe_checkpoint_seconds"); got < 1 {
		t.Errorf("mosaic_dedupe_checkpoint_seconds has %v samples, want at least 1", got)
	}
}

func TestLogClosed(t *testing.T) {
	t.Parallel()
	l, st := openLog(t, ""), openStore(t)
	appendMsgs(t, l, []msg{{"src_a", "m1", 0}, {"src_a", "m1", 0}})
	r := start(t, New(l, st, Options{CheckpointEvery: time.Hour}))
	catchUp(t, r.Engine, l)
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	time.Sleep(100 * time.Millisecond) // let Run meet the closed log
	if err := r.stop(t); err != nil {
		t.Fatalf("Run() with the log closed under it = %v, want nil", err)
	}
	if got := checkpointSeq(t, st); got != 2 {
		t.Errorf("final checkpoint at seq %d with the log closed, want 2", got)
	}
}
