package kafka

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mosaic-cdp/mosaic/activate"
)

// TestProduce sends messages through the kind to kfake, franz-go's
// in-process Kafka cluster, and reads them back.
func TestProduce(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "mosaic-events"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	k := Kind{}
	settings, err := activate.ParseSettings("kafka", k.Spec(), map[string]any{"brokers": []any{c.ListenAddrs()[0]}, "topic": "mosaic-events"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := k.Open(&activate.Destination{Settings: settings}, activate.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msgs := []activate.Message{
		{ID: "msg_1", Type: "event", ProfileKey: "p1", Payload: json.RawMessage(`{"n":1}`)},
		{ID: "msg_2", Type: "event", ProfileKey: "p1", Payload: json.RawMessage(`{"n":2}`)},
		{ID: "msg_3", Type: "event", ProfileKey: "p2", Payload: json.RawMessage(`{"n":3}`)},
	}
	if err := s.Send(ctx, msgs); err != nil {
		t.Fatalf("Send = %v", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("mosaic-events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	byKey := map[string][]string{}
	for n := 0; n < len(msgs); {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read back %d of %d records: %v", n, len(msgs), err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			byKey[string(r.Key)] = append(byKey[string(r.Key)], string(r.Headers[0].Value))
		})
	}
	if got := byKey["p1"]; len(got) != 2 || got[0] != "msg_1" || got[1] != "msg_2" {
		t.Errorf("records of p1 = %v, want [msg_1 msg_2] in order", got)
	}
	if got := byKey["p2"]; len(got) != 1 || got[0] != "msg_3" {
		t.Errorf("records of p2 = %v, want [msg_3]", got)
	}
}
