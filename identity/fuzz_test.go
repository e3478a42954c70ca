package identity

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mosaic-cdp/mosaic"
)

// FuzzExtract checks that Extract never panics, that what it returns is
// normalised, and that on valid JSON it agrees with a reference that decodes
// the message with encoding/json (crashers become seeds in
// testdata/fuzz/FuzzExtract).
func FuzzExtract(f *testing.F) {
	for _, s := range []string{
		`{"type":"identify","userId":"u1","anonymousId":"a1","traits":{"email":"J@Mosaic.dev","phone":"06 12345678","crm":"C1"}}`,
		`{"type":"track","userId":42,"context":{"traits":{"email":"x@mosaic.dev"},"device":{"id":"D","advertisingId":"AD","adTrackingEnabled":false},"externalIds":[{"id":"s1","type":"Shop_ID","collection":"users","encoding":"none"}]}}`,
		`{"type":"alias","previousId":"old","userId":"new"}`,
		` { "userId" : "a\"b" , "userId":"\u0075", "context" : { "traits" : { "email" : "a@b.c" } } } `,
	} {
		f.Add([]byte(s), "")
	}
	x, err := NewExtractor(ExtractConfig{DefaultRegion: "NL", TraitIdentifiers: map[string]string{"crm": "crm_id", "mail": TypeEmail}})
	if err != nil {
		f.Fatal(err)
	}
	ref, _ := NewExtractor(ExtractConfig{DefaultRegion: "NL", TraitIdentifiers: map[string]string{"crm": "crm_id", "mail": TypeEmail}})
	f.Fuzz(func(t *testing.T, msg []byte, callType string) {
		ev := &mosaic.Event{Type: callType, Message: msg}
		got, drops, err := x.Extract(ev)
		checkNormalised(t, got)
		if !json.Valid(msg) {
			return
		}
		want, wantDrops, ok := refExtract(ref, ev)
		if !ok {
			if err == nil {
				t.Fatalf("Extract(%q) = nil error, but the message is not an object", msg)
			}
			return
		}
		if err != nil {
			t.Fatalf("Extract(%q) = %v on valid JSON", msg, err)
		}
		if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("Extract(%q) differs from encoding/json (-want +got):\n%s", msg, d)
		}
		if d := cmp.Diff(dropReasons(wantDrops), dropReasons(drops), cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("Extract(%q) drops differ from encoding/json (-want +got):\n%s", msg, d)
		}
	})
}

func checkNormalised(t *testing.T, got []Identifier) {
	t.Helper()
	for _, id := range got {
		if checkTypeName(id.Type) != nil || id.Value == "" || len(id.Value) > MaxValueBytes || !utf8.ValidString(id.Value) ||
			strings.TrimSpace(id.Value) != id.Value {
			t.Fatalf("Extract returned %q, which is not a valid identifier", id)
		}
		switch id.Type {
		case TypeEmail:
			if v, _ := normalizeEmail(id.Value); v != id.Value {
				t.Fatalf("email %q is not normalised (%q)", id.Value, v)
			}
		case TypePhone:
			if !strings.HasPrefix(id.Value, "+") || formatPhone(id.Value, "") != id.Value {
				t.Fatalf("phone %q is not E.164", id.Value)
			}
		}
	}
}

func dropReasons(ds []Dropped) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Type+":"+d.Reason)
	}
	return out
}

// refExtract decodes the message with encoding/json and gives each field
// to the Extractor re-encoded, so only the reading differs from Extract's.
func refExtract(x *Extractor, ev *mosaic.Event) ([]Identifier, []Dropped, bool) {
	dec := json.NewDecoder(bytes.NewReader(ev.Message))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil || top == nil {
		return nil, nil, false
	}
	var m message
	field := func(obj map[string]any, k string) []byte {
		v, ok := obj[k]
		if !ok {
			return nil
		}
		b, _ := json.Marshal(v)
		return b
	}
	m.typ, m.userID, m.anonymousID = field(top, "type"), field(top, "userId"), field(top, "anonymousId")
	m.previousID, m.traits, m.context = field(top, "previousId"), field(top, "traits"), field(top, "context")
	if ctx, ok := top["context"].(map[string]any); ok {
		m.ctxTraits, m.device, m.externalIDs = field(ctx, "traits"), field(ctx, "device"), field(ctx, "externalIds")
		if dev, ok := ctx["device"].(map[string]any); ok {
			m.deviceID, m.advertisingID, m.adTracking = field(dev, "id"), field(dev, "advertisingId"), field(dev, "adTrackingEnabled")
		}
	}
	x.ids, x.drops = x.ids[:0], x.drops[:0]
	x.fromMessage(ev.Type, &m)
	return x.ids, x.drops, true
}

// FuzzNormalize checks that normalising is idempotent and that interned
// values come back as they went in.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Jane@Mosaic.dev", "06 12345678", "+1 415 555 2671", "0f8fad5b-d9cb-469f-a165-70867728950e",
		"0F8FAD5B-D9CB-469F-A165-70867728950E", "0f8fad5b-D9CB-469f-a165-70867728950e", "42"} {
		f.Add(s)
	}
	p := newPhoneNormalizer("NL")
	f.Fuzz(func(t *testing.T, v string) {
		if e, reason := normalizeEmail(v); reason == "" {
			if again, _ := normalizeEmail(e); again != e {
				t.Fatalf("normalizeEmail(%q) = %q, then %q", v, e, again)
			}
		}
		if e, reason := p.normalize(v); reason == "" {
			if again, _ := p.normalize(e); again != e {
				t.Fatalf("phone %q = %q, then %q", v, e, again)
			}
		}
		var a arena
		k := makeKey(3, v)
		ref := makeRef(a.add(&k), k.bytesLen(), k.enc, k.typ)
		if got := a.value(ref); got != v {
			t.Fatalf("interned %q, got back %q", v, got)
		}
		if !a.equal(ref, &k) {
			t.Fatalf("interned %q does not equal its key", v)
		}
	})
}

// FuzzRestore checks that Restore rejects damaged snapshots without
// panicking.
func FuzzRestore(f *testing.F) {
	g := New(DefaultRules())
	for i, id := range []Identifier{{TypeUserID, "u"}, {TypeEmail, "e@mosaic.dev"}, {TypeAnonymousID, "a"}} {
		if _, err := g.Resolve(uint64(i+1), "web", "m", t0, []Identifier{id, {TypeAnonymousID, "a"}}); err != nil {
			f.Fatal(err)
		}
	}
	snap, err := g.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(snap)
	f.Add(snap[:len(snap)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Restore(bytes.NewReader(b))
		if err != nil {
			return
		}
		if err := checkGraph(r); err != nil {
			t.Fatalf("Restore accepted a broken graph: %v", err)
		}
	})
}
