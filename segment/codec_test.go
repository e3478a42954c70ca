package segment

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mosaic-cdp/mosaic/audience"
)

func TestStateEncoding(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	s := New(nil, nil, Options{})
	tests := []struct {
		name string
		p    *pstate
	}{
		{"empty", &pstate{}},
		{"full", &pstate{
			traits: []trait{newTrait("country", `"NL"`), newTrait("age", `41`)},
			events: eventLists{
				{"Order Completed", []item{{At: at, Seq: 3, Props: json.RawMessage(`{"revenue":10}`)}, {At: at.Add(time.Hour), Seq: 9}}},
				{"Product Viewed", []item{{At: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), Seq: 1 << 62}}},
			},
			Consent: map[string]bool{"marketing": true, "ads": false}, ConsentAt: at, ConsentSeq: 7,
			member: s.timesFromID(map[string]time.Time{"aud_1": at}),
			next:   s.timesFromID(map[string]time.Time{"aud_1": at.Add(7 * 24 * time.Hour), "aud_2": at, "aud_0": time.Date(3000, 1, 1, 0, 0, 0, 1, time.UTC)}),
		}},
		{"consent granted nothing", &pstate{Consent: map[string]bool{}}},
	}
	opts := cmp.Options{cmp.AllowUnexported(trait{}, pstate{}, eventList{}, slotTime{}, audience.Value{}), cmpopts.EquateEmpty(),
		cmpopts.SortSlices(func(a, b trait) bool { return a.name < b.name }),
		cmpopts.SortSlices(func(a, b eventList) bool { return a.name < b.name })}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := s.appendState(nil, tt.p)
			got, err := s.decodeState(data)
			if err != nil {
				t.Fatalf("decodeState(appendState(p)) = %v", err)
			}
			if diff := cmp.Diff(tt.p, got, opts); diff != "" {
				t.Errorf("decodeState(appendState(p)) (-want +got):\n%s", diff)
			}
			if (tt.p.Consent == nil) != (got.Consent == nil) {
				t.Errorf("consent present = %v, want %v", got.Consent != nil, tt.p.Consent != nil)
			}
			// States saved before the binary form are JSON: still read.
			traits := map[string]*jsonTrait{}
			for _, t := range tt.p.traits {
				traits[t.name] = &jsonTrait{Raw: t.raw}
			}
			events := map[string][]item{}
			for _, l := range tt.p.events {
				events[l.name] = l.items
			}
			js, _ := json.Marshal(jsonState{pstate: tt.p, Events: events, Traits: traits, Member: s.timesByID(tt.p.member), Next: s.timesByID(tt.p.next)})
			old, err := s.decodeState(js)
			if err != nil {
				t.Fatalf("decodeState(JSON) = %v", err)
			}
			if diff := cmp.Diff(tt.p, old, opts, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("decodeState(JSON) (-want +got):\n%s", diff)
			}
			for n := range data { // every truncation is an error, never a panic
				if _, err := s.decodeState(data[:n]); err == nil {
					t.Errorf("decodeState(first %d of %d bytes) = nil error, want one", n, len(data))
				}
			}
		})
	}
}

// TestUnquote: the fast path gives what the JSON decoder gives.
func TestUnquote(t *testing.T) {
	for _, raw := range []string{`"Order Completed"`, `""`, `"a\"b"`, `"caf\u00e9"`, "\"bad \xff\"", `12`, `null`, `"`} {
		got, ok := unquote([]byte(raw))
		var want string
		wantOK := json.Unmarshal([]byte(raw), &want) == nil
		if got != want || ok != wantOK {
			t.Errorf("unquote(%q) = %q, %v; want %q, %v", raw, got, ok, want, wantOK)
		}
	}
}
