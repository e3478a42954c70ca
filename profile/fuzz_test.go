package profile

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/mosaic-cdp/mosaic"
)

var fuzzSeeds = []string{
	`{"type":"identify","traits":{"email":"a@example.com","n":1,"o":{"a":[1,2]}},"timestamp":"2024-05-01T10:00:00Z"}`,
	`{"type":"track","event":"Order Completed","context":{"traits":{"plan":"pro"}},"properties":{"x":[true,false,null]}}`,
	`{"type":"group","groupId":"acme","traits":{"name":"Acme"}}`,
	`{"type":"page","name":"Ho\u006de","timestamp":"2024-05-01T12:00:00+0200"}`,
	`{"traits":{"\ud83d\ude00":"\u00e9"},"timestamp":"0001-01-01"}`,
	`{"traits":{"a":1e400,"b":-0.0e-7}}`,
	`{"traits":{"a":1}`,
	`[]`,
}

// FuzzApply: Apply never panics, and whatever it accepts gives a profile
// that views as JSON and survives a binary round trip.
func FuzzApply(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add("identify", []byte(s))
		f.Add("group", []byte(s))
	}
	f.Fuzz(func(t *testing.T, typ string, msg []byte) {
		p := New(1)
		ev := &mosaic.Event{Seq: 1, SourceID: "web", Type: typ, ReceivedAt: received, Message: msg}
		if err := Apply(p, ev); err != nil {
			return
		}
		ev2 := *ev
		ev2.Seq = 2
		s := NewSet()
		if err := s.Apply(1, &ev2); err != nil {
			t.Fatalf("Set.Apply = %v after Apply accepted the message", err)
		}
		Merge(p, s.Get(1))
		if _, err := json.Marshal(View(p)); err != nil {
			t.Fatalf("json.Marshal(View) = %v for message %q", err, msg)
		}
		b := mustMarshal(t, p)
		var q Profile
		if err := q.UnmarshalBinary(b); err != nil {
			t.Fatalf("UnmarshalBinary(MarshalBinary) = %v for message %q", err, msg)
		}
		if b2 := mustMarshal(t, &q); !bytes.Equal(b, b2) {
			t.Fatalf("binary round trip differs for message %q", msg)
		}
		if _, err := s.Flush(); err != nil {
			t.Fatalf("Flush = %v", err)
		}
	})
}

// FuzzUnmarshalBinary: decoding never panics, and what it accepts encodes
// back to the same bytes and can take more events.
func FuzzUnmarshalBinary(f *testing.F) {
	for _, s := range fuzzSeeds[:5] {
		p := New(1)
		if err := Apply(p, &mosaic.Event{Seq: 9, SourceID: "web", Type: "group", ReceivedAt: received, Message: []byte(s)}); err != nil {
			f.Fatal(err)
		}
		f.Add(mustMarshal(f, p))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Profile
		if err := p.UnmarshalBinary(data); err != nil {
			return
		}
		if b := mustMarshal(t, &p); !bytes.Equal(b, data) {
			t.Fatalf("MarshalBinary(UnmarshalBinary(%x)) = %x", data, b)
		}
		if _, err := json.Marshal(View(&p)); err != nil {
			t.Fatalf("json.Marshal(View) = %v", err)
		}
		if err := Apply(&p, event(100, "identify", fuzzSeeds[0])); err != nil {
			t.Fatalf("Apply = %v", err)
		}
	})
}
