package activate

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// TestOutageProbesThenReleases: a destination down for an hour gets one
// probe at a time, not the backlog, and once a probe gets through every
// profile is sent at once, in order, whatever its own backoff reached.
func TestOutageProbesThenReleases(t *testing.T) {
	h := newHarness(t, nil, false)
	h.rcv.mu.Lock()
	h.rcv.down = true
	h.rcv.mu.Unlock()
	var pairs []string
	for i := range 100 {
		pairs = append(pairs, fmt.Sprintf("p%d-%03d", i%10, i), fmt.Sprintf("P%d", i%10))
	}
	enqueue(t, h.st, h.dest.ID, h.clk.Now(), pairs...)
	attempts := func() int {
		h.rcv.mu.Lock()
		defer h.rcv.mu.Unlock()
		n := 0
		for _, a := range h.rcv.attempts {
			n += a
		}
		return n
	}
	waitFor(t, "the first round", func() bool { return attempts() == 10 }) // each profile's first message
	for range 60 {
		h.clk.Advance(time.Minute) // past the probe cap: one probe is due
		time.Sleep(15 * time.Millisecond)
	}
	// Probes are at least half the cap apart on the clock, which moves a
	// minute at a time: at most one per step.
	if got := attempts(); got <= 10 || got > 70 {
		t.Fatalf("requests during an hour down = %d, want 11 to 70 (one round, then at most one probe per minute)", got)
	}
	held := 0
	for _, d := range h.status() {
		if d.Attempts > 0 && d.NextAt.Sub(h.clk.Now()) > 10*time.Minute {
			held++
		}
	}
	if held == 0 {
		t.Fatalf("no message waits long after an hour of failures; the test would not show release")
	}
	h.rcv.mu.Lock()
	h.rcv.down = false
	h.rcv.mu.Unlock()
	// The clock moves a second at a time up to a minute past recovery:
	// room for the next probe (at most the probe cap, 30s, away), far
	// short of the held profiles' own next attempts.
	recovered := h.clk.Now()
	waitFor(t, "the backlog delivered within a minute of recovery", func() bool {
		for _, d := range h.status() {
			if d.Status == store.DeliveryPending {
				if h.clk.Now().Sub(recovered) < time.Minute {
					h.clk.Advance(time.Second)
				}
				return false
			}
		}
		return true
	})
	got := h.rcv.deliveredIDs()
	for p := range 10 {
		var seq []string
		for _, id := range got {
			if strings.HasPrefix(id, fmt.Sprintf("p%d-", p)) {
				seq = append(seq, id)
			}
		}
		if len(seq) != 10 || !slices.IsSorted(seq) {
			t.Errorf("profile P%d delivered %v, want its 10 messages in order", p, seq)
		}
	}
}
