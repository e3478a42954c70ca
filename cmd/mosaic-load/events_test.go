package main

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func testGenerator(t testing.TB, seed byte) *Generator {
	t.Helper()
	return NewCatalog(1, 256).NewGenerator([32]byte{seed})
}

func TestEventsAreValidSegmentMessages(t *testing.T) {
	g := testGenerator(t, 1)
	ts := formatTime(time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC))
	for _, sentAt := range []string{"", ts} {
		t.Run("sentAt="+sentAt, func(t *testing.T) {
			for range 500 {
				b, ev := g.AppendEvent(nil, ts, sentAt)
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatalf("AppendEvent() = %s, not JSON: %v", b, err)
				}
				checkMessage(t, m, ev, ts, sentAt)
			}
		})
	}
}

// checkMessage checks the fields the Tracking API requires and that the
// filled-in values are the ones the generator reported.
func checkMessage(t *testing.T, m map[string]any, ev Event, ts, sentAt string) {
	t.Helper()
	if m["type"] != ev.Kind || m["messageId"] != ev.MessageID || m["timestamp"] != ts {
		t.Fatalf("message (type, messageId, timestamp) = (%v, %v, %v), want (%v, %v, %v)",
			m["type"], m["messageId"], m["timestamp"], ev.Kind, ev.MessageID, ts)
	}
	if got, _ := m["sentAt"].(string); got != sentAt {
		t.Errorf("message sentAt = %q, want %q", got, sentAt)
	}
	if anon, _ := m["anonymousId"].(string); len(anon) != 36 {
		t.Errorf("message anonymousId = %q, want a UUID", anon)
	}
	ctx, _ := m["context"].(map[string]any)
	for _, k := range []string{"userAgent", "ip", "page", "library", "locale", "timezone"} {
		if ctx[k] == nil {
			t.Errorf("message %s has no context.%s", ev.MessageID, k)
		}
	}
	switch ev.Kind {
	case "track":
		if m["event"] == nil || m["properties"] == nil {
			t.Errorf("track message has event %v, properties %v; want both", m["event"], m["properties"])
		}
	case "identify":
		if m["traits"] == nil || m["userId"] == nil {
			t.Errorf("identify message has traits %v, userId %v; want both", m["traits"], m["userId"])
		}
	case "page":
		if m["properties"] == nil {
			t.Errorf("page message has no properties")
		}
	default:
		t.Errorf("message type = %q, want track, page or identify", ev.Kind)
	}
}

func TestEventSizes(t *testing.T) {
	g := testGenerator(t, 2)
	ts := formatTime(time.Now())
	const n = 5000
	var total int
	for range n {
		b, _ := g.AppendEvent(nil, ts, "")
		if len(b) < 450 || len(b) > 1100 {
			t.Errorf("len(AppendEvent()) = %d, want 450..1100: %s", len(b), b)
		}
		total += len(b)
	}
	avg := total / n
	t.Logf("average event size = %d bytes", avg)
	if avg < 620 || avg > 780 {
		t.Errorf("average event size = %d bytes, want about 700 (620..780)", avg)
	}
}

func TestEventMix(t *testing.T) {
	g := testGenerator(t, 3)
	kinds := map[string]int{}
	for range 5000 {
		_, ev := g.AppendEvent(nil, "", "")
		kinds[ev.Kind]++
	}
	for _, k := range []string{"track", "page", "identify"} {
		if kinds[k] < 250 {
			t.Errorf("%d of 5000 events are %s, want at least 250", kinds[k], k)
		}
	}
}

func TestMessageIDsAreUnique(t *testing.T) {
	// Two generators seeded differently, as two workers are: no id may
	// repeat within or across them.
	seen := map[string]bool{}
	for _, seed := range []byte{4, 5} {
		g := testGenerator(t, seed)
		for range 50000 {
			_, ev := g.AppendEvent(nil, "", "")
			if seen[ev.MessageID] {
				t.Fatalf("messageId %s generated twice", ev.MessageID)
			}
			seen[ev.MessageID] = true
		}
	}
}

func TestUUIDFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 100 {
		u := uuidString(rng)
		if len(u) != 36 || u[14] != '4' || !strings.ContainsRune("89ab", rune(u[19])) || strings.Count(u, "-") != 4 {
			t.Fatalf("uuidString() = %q, want a version 4 UUID", u)
		}
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	g := testGenerator(b, 6)
	ts := formatTime(time.Now())
	buf := make([]byte, 0, 2048)
	var n int
	for b.Loop() {
		buf, _ = g.AppendEvent(buf[:0], ts, "")
		n += len(buf)
	}
	b.SetBytes(int64(n / b.N))
}
