package profile

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

func TestApply(t *testing.T) {
	tests := []struct {
		name   string
		events []*mosaic.Event
		want   string // members of View compared; others are not
	}{{
		name: "identify sets traits, counts and first and last seen",
		events: []*mosaic.Event{
			event(1, "identify", `{"type":"identify","userId":"u1","traits":{"email":"jane@example.com","plan":"pro","age":41},"timestamp":"2024-05-01T10:00:00Z"}`),
			event(2, "track", `{"type":"track","event":"Order Completed","properties":{"revenue":12.5},"timestamp":"2024-05-01T11:00:00.123456Z"}`),
		},
		want: `{"traits":{"email":"jane@example.com","plan":"pro","age":41},
			"first_seen":"2024-05-01T10:00:00Z","last_seen":"2024-05-01T11:00:00.123456Z",
			"sources":{"web":2},
			"event_counts":{"total":2,"by_type":{"identify":1,"track":1},"by_event":{"Order Completed":1}},
			"groups":[]}`,
	}, {
		name: "a late event does not overwrite a newer trait",
		events: []*mosaic.Event{
			event(1, "identify", `{"traits":{"plan":"pro"},"timestamp":"2024-05-01T10:00:00Z"}`),
			event(2, "identify", `{"traits":{"plan":"free","country":"NL"},"timestamp":"2024-04-01T10:00:00Z"}`),
		},
		want: `{"traits":{"plan":"pro","country":"NL"},"first_seen":"2024-04-01T10:00:00Z","last_seen":"2024-05-01T10:00:00Z"}`,
	}, {
		name: "a newer event arriving later overwrites",
		events: []*mosaic.Event{
			event(1, "identify", `{"traits":{"plan":"free"},"timestamp":"2024-04-01T10:00:00Z"}`),
			event(2, "identify", `{"traits":{"plan":"pro"},"timestamp":"2024-05-01T10:00:00Z"}`),
		},
		want: `{"traits":{"plan":"pro"}}`,
	}, {
		name: "equal timestamps go to the higher seq, whatever the arrival order",
		events: []*mosaic.Event{
			event(5, "identify", `{"traits":{"plan":"a"},"timestamp":"2024-05-01T10:00:00Z"}`),
			event(3, "identify", `{"traits":{"plan":"b"},"timestamp":"2024-05-01T10:00:00Z"}`),
		},
		want: `{"traits":{"plan":"a"}}`,
	}, {
		name: "context.traits of any call set traits",
		events: []*mosaic.Event{
			event(1, "track", `{"event":"Signed Up","context":{"ip":"1.2.3.4","traits":{"email":"a@example.com"}},"timestamp":"2024-05-01T10:00:00Z"}`),
			event(2, "page", `{"name":"Home","context":{"traits":{"name":"Ann"}},"timestamp":"2024-05-01T10:01:00Z"}`),
		},
		want: `{"traits":{"email":"a@example.com","name":"Ann"},
			"event_counts":{"total":2,"by_type":{"track":1,"page":1},"by_event":{"Signed Up":1}}}`,
	}, {
		name: "identify's traits win over its context.traits",
		events: []*mosaic.Event{
			event(1, "identify", `{"traits":{"plan":"pro"},"context":{"traits":{"plan":"free","country":"NL"}}}`),
		},
		want: `{"traits":{"plan":"pro","country":"NL"}}`,
	}, {
		name: "traits of a track call are not user traits",
		events: []*mosaic.Event{
			event(1, "track", `{"event":"X","traits":{"plan":"pro"}}`),
		},
		want: `{"traits":{}}`,
	}, {
		name: "group links an account with its traits, last writer wins",
		events: []*mosaic.Event{
			event(1, "group", `{"groupId":"acme","traits":{"name":"Acme","employees":100},"context":{"traits":{"email":"a@acme.com"}},"timestamp":"2024-05-02T10:00:00Z"}`),
			event(2, "group", `{"groupId":"acme","traits":{"employees":50},"timestamp":"2024-05-01T10:00:00Z"}`),
			event(3, "group", `{"groupId":42,"traits":{"name":"Numbered"},"timestamp":"2024-05-03T10:00:00Z"}`),
		},
		want: `{"traits":{"email":"a@acme.com"},"groups":[
			{"id":"42","traits":{"name":"Numbered"},"first_seen":"2024-05-03T10:00:00Z","last_seen":"2024-05-03T10:00:00Z"},
			{"id":"acme","traits":{"name":"Acme","employees":100},"first_seen":"2024-05-01T10:00:00Z","last_seen":"2024-05-02T10:00:00Z"}]}`,
	}, {
		name: "a group call without groupId links nothing",
		events: []*mosaic.Event{
			event(1, "group", `{"traits":{"name":"Acme"}}`),
		},
		want: `{"groups":[],"event_counts":{"total":1,"by_type":{"group":1},"by_event":{}}}`,
	}, {
		name: "a missing timestamp uses receivedAt",
		events: []*mosaic.Event{
			event(1, "identify", `{"traits":{"plan":"pro"}}`),
		},
		want: `{"first_seen":"2024-05-01T12:00:00Z","last_seen":"2024-05-01T12:00:00Z"}`,
	}, {
		name: "a timestamp that does not parse uses receivedAt",
		events: []*mosaic.Event{
			event(1, "identify", `{"traits":{"plan":"pro"},"timestamp":"yesterday"}`),
		},
		want: `{"first_seen":"2024-05-01T12:00:00Z"}`,
	}, {
		name: "timestamps with an offset and far in the past",
		events: []*mosaic.Event{
			event(1, "track", `{"event":"A","timestamp":"2024-05-01T12:00:00.5+0200"}`),
			event(2, "track", `{"event":"A","timestamp":"0001-01-01T00:00:00Z"}`),
		},
		want: `{"first_seen":"0001-01-01T00:00:00Z","last_seen":"2024-05-01T10:00:00.5Z"}`,
	}, {
		name: "nested values are one trait, verbatim",
		events: []*mosaic.Event{
			event(1, "identify", `{"traits":{"address":{ "city" : "Utrecht", "zip":"3511"},"tags":["a", "b"],"vip":null,"score":1.50}}`),
		},
		want: `{"traits":{"address":{"city":"Utrecht","zip":"3511"},"tags":["a","b"],"vip":null,"score":1.5}}`,
	}, {
		name: "repeated keys: the last wins, as for any JSON reader",
		events: []*mosaic.Event{
			event(1, "identify", `{"traits":{"plan":"a"},"traits":{"plan":"b","country":"NL","plan":"c"},"timestamp":"2024-05-01T10:00:00Z","timestamp":"2024-05-02T10:00:00Z",`+
				`"context":{"traits":{"x":1}},"context":{"traits":{"y":1},"traits":{"z":1}}}`),
		},
		want: `{"traits":{"plan":"c","country":"NL","z":1},"first_seen":"2024-05-02T10:00:00Z"}`,
	}, {
		name: "escaped names are compared by their value",
		events: []*mosaic.Event{
			event(1, "identify", `{"\u0074raits":{"pl\u0061n":"pro","\u00e9t\u00e9":1}}`),
			event(2, "identify", `{"traits":{"plan":"free"},"timestamp":"1999-01-01T00:00:00Z"}`),
		},
		want: `{"traits":{"plan":"pro","été":1}}`,
	}, {
		name: "traits that are not an object set nothing",
		events: []*mosaic.Event{
			event(1, "identify", `{"traits":null,"context":{"traits":"x"}}`),
		},
		want: `{"traits":{},"event_counts":{"total":1,"by_type":{"identify":1},"by_event":{}}}`,
	}, {
		name: "the event's type wins over the message's",
		events: []*mosaic.Event{
			event(1, "track", `{"type":"identify","event":"A","traits":{"plan":"pro"}}`),
		},
		want: `{"traits":{},"event_counts":{"total":1,"by_type":{"track":1},"by_event":{"A":1}}}`,
	}, {
		name: "sources are counted",
		events: []*mosaic.Event{
			event(1, "track", `{"event":"A"}`),
			{Seq: 2, SourceID: "ios", Type: "track", ReceivedAt: received, Message: []byte(`{"event":"A"}`)},
			{Seq: 3, Type: "track", ReceivedAt: received, Message: []byte(`{"event":"B"}`)},
		},
		want: `{"sources":{"web":1,"ios":1},"event_counts":{"total":3,"by_type":{"track":3},"by_event":{"A":2,"B":1}}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkView(t, applyAll(t, tt.events...), tt.want)
		})
	}
}

func TestApplyEmpty(t *testing.T) {
	checkView(t, New(1), `{"traits":{},"first_seen":null,"last_seen":null,"sources":{},
		"event_counts":{"total":0,"by_type":{},"by_event":{}},"groups":[]}`)
}

func TestApplyInvalidMessage(t *testing.T) {
	for _, msg := range []string{``, `[]`, `{"traits":{"a":1}`, `{"traits":{"a":01}}`, `{"a":1} x`,
		`{"traits":{"a":"\x01"}}`, `{"traits":{"a":tru}}`, `{"a" 1}`, `{"a":1,}`, `null`,
		strings.Repeat(`[`, 1000) + strings.Repeat(`]`, 1000)} {
		t.Run(msg[:min(len(msg), 20)], func(t *testing.T) {
			p := applyAll(t, event(1, "identify", `{"traits":{"plan":"pro"}}`))
			before := state(t, p)
			if err := Apply(p, event(2, "identify", msg)); err == nil {
				t.Errorf("Apply(%q) = nil, want an error", msg)
			}
			if got := state(t, p); !bytes.Equal(got, before) {
				t.Errorf("Apply(%q) changed the profile", msg)
			}
		})
	}
}

func TestApplyInvalidUTF8(t *testing.T) {
	p := applyAll(t, event(1, "identify", "{\"traits\":{\"n\xffame\":\"a\xffb\"}}"))
	tr := p.Traits()
	if len(tr) != 1 || tr[0].Name != "n\uFFFDame" || string(tr[0].Value) != "\"a\uFFFDb\"" {
		t.Errorf("Traits() = %+v, want n\uFFFDame = \"a\uFFFDb\"", tr)
	}
}

func TestTraitAccessor(t *testing.T) {
	p := applyAll(t, event(7, "identify", `{"traits":{"plan":"pro"},"timestamp":"2024-05-01T10:00:00Z"}`))
	got, ok := p.Trait("plan")
	want := Trait{Name: "plan", Value: []byte(`"pro"`), Time: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), Seq: 7, SourceID: "web"}
	if !ok || got.Name != want.Name || string(got.Value) != string(want.Value) || !got.Time.Equal(want.Time) ||
		got.Seq != want.Seq || got.SourceID != want.SourceID {
		t.Errorf("Trait(plan) = %+v, %v, want %+v, true", got, ok, want)
	}
	if _, ok := p.Trait("email"); ok {
		t.Errorf("Trait(email) found, want not found")
	}
}

func TestMergeTable(t *testing.T) {
	a := applyAll(t,
		event(1, "identify", `{"traits":{"plan":"free","email":"a@example.com"},"timestamp":"2024-05-01T10:00:00Z"}`),
		event(3, "group", `{"groupId":"acme","traits":{"size":1},"timestamp":"2024-05-01T10:00:00Z"}`))
	b := applyAll(t,
		event(2, "identify", `{"traits":{"plan":"pro"},"timestamp":"2024-05-02T10:00:00Z"}`),
		event(4, "group", `{"groupId":"acme","traits":{"size":2},"timestamp":"2024-04-01T10:00:00Z"}`),
		event(5, "track", `{"event":"A","timestamp":"2024-03-01T10:00:00Z"}`))
	b.ID = 2
	Merge(a, b)
	checkView(t, a, `{"traits":{"plan":"pro","email":"a@example.com"},
		"first_seen":"2024-03-01T10:00:00Z","last_seen":"2024-05-02T10:00:00Z","sources":{"web":5},
		"event_counts":{"total":5,"by_type":{"identify":2,"group":2,"track":1},"by_event":{"A":1}},
		"groups":[{"id":"acme","traits":{"size":1},"first_seen":"2024-04-01T10:00:00Z","last_seen":"2024-05-01T10:00:00Z"}]}`)
	checkView(t, b, `{"event_counts":{"total":3,"by_type":{"identify":1,"group":1,"track":1},"by_event":{"A":1}}}`)
}
