// Package kafka is the Kafka destination kind: it produces outbox messages
// to a topic with franz-go, keyed by profile so a profile's messages stay in
// one partition and in order. It is the only package that imports the
// Kafka client.
package kafka

import (
	"context"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/mosaic-cdp/mosaic/activate"
)

// Kind is the Kafka destination kind.
type Kind struct{}

// Type implements activate.Kind.
func (Kind) Type() string { return "kafka" }

// Description implements activate.Kind.
func (Kind) Description() string {
	return "Produces each message as a record to a Kafka topic, keyed by profile, with the message ID in the webhook-id header."
}

// Spec implements activate.Kind.
func (Kind) Spec() []activate.Setting {
	return []activate.Setting{
		{Name: "brokers", Type: activate.TypeList, Required: true, Description: "Seed brokers as host:port, e.g. [\"kafka-1:9092\"]."},
		{Name: "topic", Type: activate.TypeString, Required: true, Description: "Topic the records are produced to. It must exist unless the cluster creates topics on first use."},
		{Name: "client_id", Type: activate.TypeString, Default: "mosaic", Description: "Client ID the brokers see."},
	}
}

// Open implements activate.Kind.
func (Kind) Open(d *activate.Destination, _ activate.Env) (activate.Sender, error) {
	brokers := d.Settings.List("brokers")
	if len(brokers) == 0 {
		return nil, fmt.Errorf("no brokers")
	}
	topic := strings.TrimSpace(d.Settings.String("topic"))
	if topic == "" {
		return nil, fmt.Errorf("no topic")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ClientID(d.Settings.String("client_id")),
		kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()),
		// Order per key across retries needs idempotence, which franz-go
		// enables by default with all-ISR acks.
		kgo.ProducerLinger(0))
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return &sender{cl: cl}, nil
}

type sender struct{ cl *kgo.Client }

// Send implements activate.Sender: all records are produced, or the whole
// batch fails and is retried (a partial success is sent again, with the
// same message IDs).
func (s *sender) Send(ctx context.Context, msgs []activate.Message) error {
	recs := make([]*kgo.Record, len(msgs))
	for i, m := range msgs {
		recs[i] = &kgo.Record{Key: []byte(m.ProfileKey), Value: m.Payload,
			Headers: []kgo.RecordHeader{{Key: "webhook-id", Value: []byte(m.ID)}, {Key: "type", Value: []byte(m.Type)}}}
	}
	if err := s.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return &activate.SendError{Err: fmt.Errorf("produce: %w", err)}
	}
	return nil
}

// Close implements activate.Sender.
func (s *sender) Close() error {
	s.cl.Close()
	return nil
}
