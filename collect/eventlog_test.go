package collect_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/collect"
	"github.com/mosaic-cdp/mosaic/eventlog"
)

var _ collect.Appender = (*eventlog.Log)(nil)

type oneSource struct{ src *mosaic.Source }

func (o oneSource) SourceByWriteKey(_ context.Context, key string) (*mosaic.Source, error) {
	if key != o.src.WriteKey {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "no source")
	}
	return o.src, nil
}

type noQuarantine struct{ t *testing.T }

func (q noQuarantine) AddRejected(context.Context, []*mosaic.Rejected) error {
	q.t.Error("a valid message was rejected")
	return nil
}

// TestWithEventLog drives the handler against the real event log from
// several goroutines (the handler reuses its buffers between requests) and
// checks every acknowledged message is in the log exactly once, intact.
func TestWithEventLog(t *testing.T) {
	log, err := eventlog.Open(t.TempDir(), eventlog.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	src := &mosaic.Source{ID: "src_1", WriteKey: "wk"}
	h := collect.NewHandler(log, collect.NewSourceCache(oneSource{src}, 0), noQuarantine{t}, collect.Options{})
	const workers, batches, perBatch = 4, 10, 50
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for b := range batches {
				var msgs []string
				for i := range perBatch {
					msgs = append(msgs, fmt.Sprintf(`{"type":"track","messageId":"m-%d-%d-%d","userId":"u","event":"E","properties":{"pad":"%s"}}`,
						g, b, i, strings.Repeat("x", (g*7+i)%300)))
				}
				r := httptest.NewRequest(http.MethodPost, "/v1/batch", strings.NewReader(`{"batch":[`+strings.Join(msgs, ",")+`]}`))
				r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("wk:")))
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					t.Errorf("POST = %d %s, want 200", w.Code, w.Body)
				}
			}
		})
	}
	wg.Wait()
	recs, err := log.Read(0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]int)
	for _, rec := range recs {
		var ev mosaic.Event
		if err := ev.UnmarshalBinary(rec.Data); err != nil {
			t.Fatalf("record %d: %v", rec.Seq, err)
		}
		var msg struct{ MessageID string }
		if err := json.Unmarshal(ev.Message, &msg); err != nil || msg.MessageID != ev.MessageID || ev.SourceID != src.ID {
			t.Fatalf("record %d holds %s for messageId %s (%v): damaged", rec.Seq, ev.Message, ev.MessageID, err)
		}
		if !bytes.Contains(ev.Message, []byte(`"properties":{"pad":"`)) {
			t.Fatalf("record %d lost its properties: %s", rec.Seq, ev.Message)
		}
		seen[ev.MessageID]++
	}
	if len(recs) != workers*batches*perBatch || len(seen) != len(recs) {
		t.Errorf("log holds %d records with %d distinct messageIds, want %d each", len(recs), len(seen), workers*batches*perBatch)
	}
}
