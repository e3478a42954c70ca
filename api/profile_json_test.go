package api

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/profile"
)

// referenceProfile is the profile answer as it was written before
// writeProfile: encoding/json over the view.
func referenceProfile(s *Server, v *engine.ProfileView) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if err := enc.Encode(s.withPredicted(v)); err != nil {
		return nil // an encoding error wrote no body
	}
	return b.Bytes()
}

// predictedTraits holds predicted traits by profile, as the prediction
// service's latest fit does; its other methods are not used by lookups.
type predictedTraits struct {
	Predictions
	byProfile map[uint64]map[string]any
}

func (p predictedTraits) Predicted(id uint64) map[string]any { return p.byProfile[id] }

// TestProfileAnswerUnchanged: GET /api/v1/profiles/{ref} answers the same
// bytes as encoding/json did, for profiles with traits of every JSON kind,
// several identifiers, groups, predicted traits and text that needs
// escaping.
func TestProfileAnswerUnchanged(t *testing.T) {
	s := newIdentityServer(t)
	s.send(t,
		`{"type":"identify","anonymousId":"a-1","userId":"u-1","timestamp":"2025-03-01T10:00:00.123456Z","traits":{"email":"Jane@Example.com","name":"Jane <b>&</b>","age":41,"score":0.000000123,"big":1e21,"vip":true,"churned":false,"nickname":null,"tags":["a", "b\u2028c"],"address":{"city":"Zwolle", "zip" : "8011"},"quote":"say \"hi\"\n\ttab","ctl":"\u0001\u001f","uni":"café ☕ \u2029","empty":"","emptyObj":{},"emptyArr":[]}}`,
		`{"type":"track","anonymousId":"a-1","event":"Order Completed","properties":{"revenue":42}}`,
		`{"type":"page","anonymousId":"a-2","userId":"u-1","name":"Home"}`,
		`{"type":"group","userId":"u-1","groupId":"acct-<1>","traits":{"name":"Acme & Co","seats":12,"plan":null,"tags":["x"],"nested":{"a":[1,2,{"b":null}]}}}`,
		`{"type":"group","userId":"u-1","groupId":"acct-2","traits":{}}`,
		`{"type":"identify","userId":"u-2","traits":{"plan":"free"}}`,
		`{"type":"track","anonymousId":"a-3","event":"Viewed"}`,
	)
	u1, err := s.profiles.Find("user_id:u-1")
	if err != nil {
		t.Fatal(err)
	}
	u2, err := s.profiles.Find("user_id:u-2")
	if err != nil {
		t.Fatal(err)
	}
	preds := predictedTraits{byProfile: map[uint64]map[string]any{
		uint64(u1): {"churn_probability": 0.125, "clv": 1234.5, "tiny": 1e-9, "rfm_r": 3, "rfm_segment": "champions <top>",
			"best_hour": 14, "recommended_products": []string{"sku-1", "sku-2"}},
		uint64(u2): {}, // a fit that predicted nothing: left out
	}}
	refs := []string{"user_id:u-1", "anonymous_id:a-1", "anonymous_id:a-2", u1.String(),
		"user_id:u-2", "anonymous_id:a-3"}
	tests := []struct {
		name  string
		preds Predictions
	}{
		{"without predictions", nil},
		{"with predictions", preds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.opts.Predictions = tt.preds
			for _, ref := range refs {
				v, err := s.profiles.Profile(ref)
				if err != nil {
					t.Fatal(err)
				}
				want := referenceProfile(s.Server, v)
				w := get(t, s, "GET", "/api/v1/profiles/"+url.PathEscape(ref), "")
				if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
					t.Errorf("GET %s = %d %q, want 200 application/json", ref, w.Code, w.Header().Get("Content-Type"))
				}
				if got := w.Body.Bytes(); !bytes.Equal(got, want) {
					t.Errorf("GET %s =\n%s\nwant\n%s", ref, got, want)
				}
			}
		})
	}
}

// TestProfileAnswerEdgeCases holds the encoder to encoding/json on views
// no event stream makes easily: nil slices and maps, raw values that are
// invalid or need compacting, times encoding/json refuses, predicted
// values it cannot write.
func TestProfileAnswerEdgeCases(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 5, time.FixedZone("X", 3600))
	bad := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	full := func() *engine.ProfileView {
		return &engine.ProfileView{ID: 0x1f,
			Identifiers: []identity.IdentifierInfo{{Identifier: identity.Identifier{Type: "email", Value: "a<b>@x"}, FirstSeen: at, LastSeen: at, Sources: []string{"s1", "s&2"}}},
			ProfileJSON: profile.ProfileJSON{Traits: map[string]json.RawMessage{"b": json.RawMessage(`1`), "a": json.RawMessage(`"x"`)},
				FirstSeen: &at, LastSeen: &at, Sources: map[string]int64{"s": 2},
				EventCounts: profile.EventCountsJSON{Total: 2, ByType: map[string]int64{"track": 2}, ByEvent: map[string]int64{"<e>": 2}},
				Groups:      []profile.GroupJSON{{ID: "g", Traits: map[string]json.RawMessage{}, FirstSeen: at, LastSeen: at}}}}
	}
	tests := []struct {
		name      string
		edit      func(v *engine.ProfileView)
		predicted map[string]any
	}{
		{"full", func(*engine.ProfileView) {}, nil},
		{"zero", func(v *engine.ProfileView) { *v = engine.ProfileView{} }, nil},
		{"nil sources of an identifier", func(v *engine.ProfileView) { v.Identifiers[0].Sources = nil }, nil},
		{"empty identifiers", func(v *engine.ProfileView) { v.Identifiers = []identity.IdentifierInfo{} }, nil},
		{"nil raw value", func(v *engine.ProfileView) { v.Traits["n"] = nil }, nil},
		{"raw value with spaces", func(v *engine.ProfileView) { v.Traits["s"] = json.RawMessage(" { \"a\" : [ 1 , \"<&>\" ] } \n") }, nil},
		{"raw value with U+2028", func(v *engine.ProfileView) { v.Traits["u"] = json.RawMessage("\"a\u2028b\"") }, nil},
		{"invalid raw value", func(v *engine.ProfileView) { v.Traits["bad"] = json.RawMessage(`{"a":`) }, nil},
		{"invalid raw value in a group", func(v *engine.ProfileView) { v.Groups[0].Traits["bad"] = json.RawMessage(`tru`) }, nil},
		{"year 10000", func(v *engine.ProfileView) { v.FirstSeen = &bad }, nil},
		{"year 10000 in a group", func(v *engine.ProfileView) { v.Groups[0].LastSeen = bad }, nil},
		{"predicted", func(*engine.ProfileView) {}, map[string]any{"f": 1.5, "e": 1e21, "s": -2e-7, "z": 0.0, "i": -3, "l": []string(nil)}},
		{"predicted NaN", func(*engine.ProfileView) {}, map[string]any{"f": math.NaN()}},
		{"predicted of another type", func(*engine.ProfileView) {}, map[string]any{"m": map[string]int{"b": 1, "a": 2}, "b": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(nil, nil, Options{})
			if tt.predicted != nil {
				s.opts.Predictions = predictedTraits{byProfile: map[uint64]map[string]any{0x1f: tt.predicted}}
			}
			v := full()
			tt.edit(v)
			want := referenceProfile(s, v)
			w := httptest.NewRecorder()
			s.writeProfile(w, v)
			if got := w.Body.Bytes(); !bytes.Equal(got, want) {
				t.Errorf("writeProfile =\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// FuzzAppendString holds appendString to encoding/json's strings.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "<a href=\"x\">&</a>", "\x00\x01\b\f\n\r\t\x1f\x7f", "\\", "é☕\u2028\u2029", "\xff\xfe", "a\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

// FuzzAppendRaw holds appendRaw to encoding/json's writing of a raw value.
func FuzzAppendRaw(f *testing.F) {
	for _, s := range []string{`1`, ` { "a" : [1, "<&>"] } `, `"a\u2028b"`, "\"\u2028\"", `{"a":`, `nul`, `[]`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		want, wantErr := json.Marshal(json.RawMessage(raw))
		var pb profileBuf
		got, err := pb.appendRaw(nil, raw)
		if (err != nil) != (wantErr != nil) || (err == nil && !bytes.Equal(got, want)) {
			t.Errorf("appendRaw(%q) = %s, %v; want %s, %v", raw, got, err, want, wantErr)
		}
	})
}

// FuzzAppendFloat holds appendFloat to encoding/json's float64s.
func FuzzAppendFloat(f *testing.F) {
	for _, x := range []float64{0, math.Copysign(0, -1), 1, 1e-7, 1e-6, 1e20, 1e21, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		want, wantErr := json.Marshal(x)
		got, err := appendFloat(nil, x)
		if (err != nil) != (wantErr != nil) || (err == nil && !bytes.Equal(got, want)) {
			t.Errorf("appendFloat(%v) = %s, %v; want %s, %v", x, got, err, want, wantErr)
		}
	})
}
