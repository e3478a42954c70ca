package live

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/predict"
	"github.com/mosaic-cdp/mosaic/profile"
	"github.com/mosaic-cdp/mosaic/synth"
)

// parseReference is parse as it was before the profile located the
// members the observer reads: every message read with readMessage, its
// timestamp with time.Parse. parse must give what it gives.
func (o *Observer) parseReference(c *engine.ProfileChange) (*order, act, bool) {
	switch c.Event.Type {
	case mosaic.TypeTrack:
		if c.Name != "" && c.Name != o.opts.OrderEvent {
			if _, ok := engagementEvents[c.Name]; !ok {
				return nil, act{}, false
			}
		}
	case mosaic.TypePage, mosaic.TypeScreen, "":
	default:
		return nil, act{}, false
	}
	m, ok := readMessage(c.Event.Message)
	if !ok {
		return nil, act{}, false
	}
	t := c.Event.ReceivedAt
	if ts, err := time.Parse(time.RFC3339Nano, m.Timestamp); err == nil {
		t = ts
	}
	var a act
	switch {
	case m.Type == "page" || m.Type == "screen":
		a.kind = kindPageView
	case m.Type != "track":
		return nil, act{}, false
	case m.Event == o.opts.OrderEvent:
		return o.parseOrder(m.Props, t), act{}, true
	default:
		var ok bool
		if a, ok = engagementEvents[m.Event]; !ok {
			return nil, act{}, false
		}
	}
	a.t, a.hour = t.UnixMicro(), uint8(predict.HourOfWeekOf(t, o.zone(m.Context.Timezone)))
	return nil, a, true
}

// oddMessages are messages where what the profile reads and what a JSON
// decoder reads may part: times in other forms or out of the profile's
// years, names in other cases or escaped, repeated members, members of the
// wrong type, a context that is no object, and no JSON at all.
var oddMessages = []string{
	`{"type":"page","timestamp":"2025-03-02T19:01:00Z","context":{"timezone":"Europe/Amsterdam"}}`,
	`{"type":"page","timestamp":"2025-03-02T19:01:00.123456789Z"}`,
	`{"type":"page","timestamp":"2025-03-02T19:01:00.1234567891234Z"}`,
	`{"type":"page","timestamp":"2025-03-02T19:01:00+02:00","context":{"timezone":"Asia/Kolkata"}}`,
	`{"type":"page","timestamp":"2025-03-02T19:01:00,5Z"}`,
	`{"type":"page","timestamp":"2025-03-02T19:01:00+0200"}`,
	`{"type":"page","timestamp":"2025-03-02T19:01:00"}`,
	`{"type":"page","timestamp":"2025-03-02"}`,
	`{"type":"page","timestamp":"0000-01-01T00:00:00Z"}`,
	`{"type":"page","timestamp":"0001-01-01T00:00:00Z"}`,
	`{"type":"page","timestamp":"0001-01-01T00:00:00.000001Z"}`,
	`{"type":"page","timestamp":"9999-12-31T23:59:59.999999Z"}`,
	`{"type":"page","timestamp":"9999-12-31T23:59:59.9999989Z"}`,
	`{"type":"page","timestamp":"9999-12-31T20:00:00-05:00"}`,
	`{"type":"page","timestamp":"0001-01-01T01:00:00+02:00"}`,
	`{"type":"page","timestamp":"1969-12-31T23:59:59.9999995Z"}`,
	`{"type":"page","timestamp":"2025-03-02T19:01:00\u005a"}`,
	`{"type":"page","timestamp":"2025-03-02T19:01:00Z","timestamp":null}`,
	`{"type":"page","timestamp":"2025-03-02T19:01:00Z","timestamp":"2025-04-02T19:01:00Z"}`,
	`{"type":"page","timestamp":"2025-03-02T19:01:00Z","Timestamp":"2025-04-02T19:01:00Z"}`,
	`{"type":"page","timestamp":"2025-03-02T19:01:00Z","timeſtamp":"2025-04-02T19:01:00Z"}`,
	`{"type":"page","timestamp":5}`,
	`{"type":"page","timestamp":null}`,
	`{"type":"page","timestamp":""}`,
	`{"type":"page","context":{"timezone":5}}`,
	`{"type":"page","context":{"timezone":null}}`,
	`{"type":"page","context":{"timezone":"Europe/Paris","timezone":null}}`,
	`{"type":"page","context":{"timezone":"Europe/Paris","TimeZone":"Asia/Tokyo"}}`,
	`{"type":"page","context":{"t\u0069mezone":"Asia/Tokyo"}}`,
	`{"type":"page","context":{"timezone":"Europe/Paris","os":{"name":"iOS"},"traits":{"timezone":"UTC"}}}`,
	`{"type":"page","context":{"timezone":"Not/AZone"}}`,
	`{"type":"page","context":{"timezone":"Europe/Paris"},"context":{"locale":"fr"}}`,
	`{"type":"page","context":{"timezone":"Europe/Paris"},"Context":{"timezone":"Asia/Tokyo"}}`,
	`{"type":"page","context":null}`,
	`{"type":"page","context":"web"}`,
	`{"type":"page","context":[]}`,
	`{"type":"page","context":{"timezone":"Eur\u006fpe/Paris"}}`,
	`{"type":"page","context":{"timezone":"\xff"}}`,
	`{"Type":"track","event":"Email Opened"}`,
	`{"TYPE":"page","type":"track","event":"Email Opened"}`,
	`{"type":"track","type":"page"}`,
	`{"type":null,"event":"Email Opened"}`,
	`{"type":5}`,
	`{"ty\u0070e":"page"}`,
	`{"type":"track","event":"Email Opened","Event":"Order Completed"}`,
	`{"type":"track","event":"Email Opened","event":"Push Opened"}`,
	`{"type":"track","event":5}`,
	`{"type":"track","event":null}`,
	`{"type":"track","event":""}`,
	`{"type":"track","event":"Email \u004fpened"}`,
	`{"type":"track","event":"Order Completed","timestamp":"2025-03-01T10:00:00Z","properties":{"revenue":42.5,"products":[{"product_id":"a"}]}}`,
	`{"type":"track","event":"Order Completed","properties":{"revenue":"12.5"},"Properties":{"revenue":1}}`,
	`{"type":"track","event":"Order Completed","properties":null}`,
	`{"type":"track","event":"Order Completed","context":{"timezone":5}}`,
	`{"type":"screen","name":"Home","event":"Product Viewed"}`,
	`{"type":"track","name":"Email Opened"}`,
	`{"type":"identify","traits":{"email":"a@example.com"}}`,
	`{"type":"page"} `,
	`{"type":"page"}x`,
	`{"type":"page"`,
	`not json`,
	`null`,
	`[]`,
	``,
}

// received is when the tests' events arrived: not on a microsecond, and
// not in UTC, so a time taken from it instead of the timestamp shows.
var received = time.Date(2026, 1, 1, 10, 0, 0, 123456789, time.FixedZone("UTC+5", 5*3600))

// eventTypes are the types events are stamped with, "" for none.
var eventTypes = []string{"", mosaic.TypeTrack, mosaic.TypePage, mosaic.TypeScreen, mosaic.TypeIdentify}

// applied returns the change the profile stage shows its observers for an
// event of type typ with message msg, applied to a profile of set.
func applied(set *profile.Set, seq uint64, typ string, msg []byte) *engine.ProfileChange {
	ev := &mosaic.Event{Seq: seq, SourceID: "web", Type: typ, ReceivedAt: received, Message: msg}
	c := &engine.ProfileChange{Seq: seq, Event: ev, Profile: 1}
	if set.Apply(1, ev) == nil {
		c.Name, c.Time, c.Envelope = set.Applied()
	}
	return c
}

// checkParse reports where parse and parseReference part on c.
func checkParse(t *testing.T, o *Observer, c *engine.ProfileChange) {
	t.Helper()
	ord, a, ok := o.parse(c)
	wantOrd, wantA, wantOK := o.parseReference(c)
	if ok != wantOK || a != wantA || !reflect.DeepEqual(ord, wantOrd) {
		t.Errorf("parse(type %q, %q) = %s, want %s as with readMessage (envelope %+v)", c.Event.Type, c.Event.Message,
			dumpParse(ord, a, ok), dumpParse(wantOrd, wantA, wantOK), c.Envelope)
	}
}

func dumpParse(ord *order, a act, ok bool) string {
	if ord != nil {
		return fmt.Sprintf("order %+v, %v", *ord, ok)
	}
	return fmt.Sprintf("act %+v, %v", a, ok)
}

// TestParseMatchesReference holds parse, which reads the members the
// profile located, to readMessage on the synthetic journeys and on odd
// messages, with every type an event may be stamped with.
func TestParseMatchesReference(t *testing.T) {
	o := NewObserver(nil, ObserverOptions{})
	set := profile.NewSet()
	var msgs [][]byte
	g := synth.New(synth.Options{People: 300, Seed: 7})
	for {
		m, ok := g.NextMessage()
		if !ok {
			break
		}
		msgs = append(msgs, bytes.Clone(m.JSON)) // the generator reuses its buffer
	}
	plain := 0
	for _, s := range oddMessages {
		msgs = append(msgs, []byte(s))
	}
	for i, msg := range msgs {
		for _, typ := range eventTypes {
			c := applied(set, uint64(i+1), typ, msg)
			if c.Envelope.Plain {
				plain++
			}
			checkParse(t, o, c)
		}
	}
	// Most messages should take the fast path, or the test shows little.
	if plain < len(msgs)*len(eventTypes)*9/10 {
		t.Errorf("%d of %d changes had a plain envelope, want most", plain, len(msgs)*len(eventTypes))
	}
}

// FuzzParse holds parse to parseReference on any message.
func FuzzParse(f *testing.F) {
	for _, s := range oddMessages {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(2), []byte(s))
	}
	f.Fuzz(func(t *testing.T, typ uint8, msg []byte) {
		o := NewObserver(nil, ObserverOptions{})
		checkParse(t, o, applied(profile.NewSet(), 1, eventTypes[int(typ)%len(eventTypes)], msg))
	})
}

// BenchmarkParse measures reading a stored page view and product view as
// the profile stage shows them: from the envelope the profile located
// ("envelope"), and decoding the message as before ("readMessage").
func BenchmarkParse(b *testing.B) {
	o := NewObserver(nil, ObserverOptions{})
	for i, s := range storedMessages {
		c := applied(profile.NewSet(), 1, []string{mosaic.TypePage, mosaic.TypeTrack}[i], []byte(s))
		for _, ref := range []bool{false, true} {
			b.Run([]string{"page", "track"}[i]+"/"+map[bool]string{false: "envelope", true: "readMessage"}[ref], func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var ok bool
					if ref {
						_, _, ok = o.parseReference(c)
					} else {
						_, _, ok = o.parse(c)
					}
					if !ok {
						b.Fatal("parse found nothing")
					}
				}
			})
		}
	}
}
