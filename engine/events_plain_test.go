package engine

import (
	"bytes"
	"context"
	"testing"

	"github.com/mosaic-cdp/mosaic"
)

// TestEnrichAndPlain: events are enriched as they are read, except for
// readers that ask for them plain; the log keeps them as stored.
func TestEnrichAndPlain(t *testing.T) {
	l, st := openLog(t, ""), openStore(t)
	tag := []byte(`,"enriched":true}`)
	e := New(l, st, Options{Enrich: func(dst []byte, ev *mosaic.Event) ([]byte, bool) {
		return append(append(dst, bytes.TrimSuffix(ev.Message, []byte("}"))...), tag...), true
	}})
	r := start(t, e)
	defer r.stop(t)
	last := appendMessages(t, l, `{"type":"track","anonymousId":"a1","event":"X"}`)
	if err := e.WaitProcessed(context.Background(), last); err != nil {
		t.Fatal(err)
	}
	for _, plain := range []bool{false, true} {
		evs, _, err := e.Events(context.Background(), EventQuery{Plain: plain})
		if err != nil || len(evs) != 1 {
			t.Fatalf("Events(plain %v) = %d events, %v", plain, len(evs), err)
		}
		if got := bytes.HasSuffix(evs[0].Message, tag); got == plain {
			t.Errorf("Events(plain %v): enriched = %v, message %s", plain, got, evs[0].Message)
		}
	}
	ev, err := e.Event(last)
	if err != nil || !bytes.HasSuffix(ev.Message, tag) {
		t.Errorf("Event(%d) = %s, %v; want it enriched", last, ev.Message, err)
	}
}
