package segment

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestStateEncoding(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	tests := []struct {
		name string
		p    *pstate
	}{
		{"empty", &pstate{}},
		{"full", &pstate{
			Traits: map[string]*tval{"country": {Raw: `"NL"`}, "age": {Raw: `41`}},
			Events: map[string][]item{
				"Order Completed": {{At: at, Seq: 3, Props: json.RawMessage(`{"revenue":10}`)}, {At: at.Add(time.Hour), Seq: 9}},
				"Product Viewed":  {{At: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), Seq: 1 << 62}},
			},
			Consent: map[string]bool{"marketing": true, "ads": false}, ConsentAt: at, ConsentSeq: 7,
			Member: map[string]time.Time{"aud_1": at},
			Next:   map[string]time.Time{"aud_1": at.Add(7 * 24 * time.Hour), "aud_2": at},
		}},
		{"consent granted nothing", &pstate{Consent: map[string]bool{}}},
	}
	opts := cmp.Options{cmp.AllowUnexported(tval{}), cmpopts.IgnoreFields(tval{}, "v"), cmpopts.EquateEmpty()}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := appendState(nil, tt.p)
			got, err := decodeState(data)
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
			js, _ := json.Marshal(tt.p)
			old, err := decodeState(js)
			if err != nil {
				t.Fatalf("decodeState(JSON) = %v", err)
			}
			if diff := cmp.Diff(tt.p, old, opts, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("decodeState(JSON) (-want +got):\n%s", diff)
			}
			for n := range data { // every truncation is an error, never a panic
				if _, err := decodeState(data[:n]); err == nil {
					t.Errorf("decodeState(first %d of %d bytes) = nil error, want one", n, len(data))
				}
			}
		})
	}
}
