package clean_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/clean"
	"github.com/mosaic-cdp/mosaic/clean/mmdbtest"
	"github.com/mosaic-cdp/mosaic/collect"
)

// comparingCleaner answers the Tracking API with CleanParts and checks
// that Clean, reading the whole message, gives the same.
type comparingCleaner struct {
	t        *testing.T
	c        *clean.Cleaner
	compared int
}

func (cc *comparingCleaner) Clean(src *mosaic.Source, typ string, msg []byte) ([]byte, *mosaic.Error) {
	return cc.c.Clean(src, typ, msg)
}

func (cc *comparingCleaner) CleanParts(src *mosaic.Source, typ string, msg []byte, parts collect.Parts) ([]byte, *mosaic.Error) {
	cc.t.Helper()
	want, werr := cc.c.Clean(src, typ, bytes.Clone(msg))
	got, gerr := cc.c.CleanParts(src, typ, msg, parts)
	if string(got) != string(want) || (werr == nil) != (gerr == nil) {
		cc.t.Errorf("CleanParts(%s, %+v) =\n %s, %v\nClean gives\n %s, %v", msg, parts, got, gerr, want, werr)
	}
	cc.compared++
	return got, gerr
}

type configSettings struct{ config string }

func (s configSettings) Setting(_ context.Context, key string) (string, error) {
	if s.config == "" || key != "clean.config.s1" {
		return "", mosaic.Errorf(mosaic.ENOTFOUND, "not set")
	}
	return s.config, nil
}
func (configSettings) PutSetting(context.Context, string, string) error { return nil }

// partsCleaners are cleaners in every IP setting, with and without
// geolocation.
func partsCleaners(t testing.TB) []*clean.Cleaner {
	db := filepath.Join(t.TempDir(), "geo.mmdb")
	err := mmdbtest.Write(db, "dbip-city", []mmdbtest.Network{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Record: map[string]any{"country_code": "NL", "city": "Amsterdam"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	geo, err := clean.OpenGeoDB(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { geo.Close() })
	var out []*clean.Cleaner
	for _, g := range []*clean.GeoDB{nil, geo} {
		for _, cfg := range []string{"", `{"ip":"truncate"}`, `{"ip":"remove"}`} {
			out = append(out, clean.New(clean.Options{Settings: configSettings{cfg}, DefaultRegion: "NL", Geo: g}))
		}
	}
	return out
}

// sendThrough posts body to path of a Tracking API handler whose cleaner
// compares CleanParts with Clean.
func sendThrough(t *testing.T, c *clean.Cleaner, recordIP bool, path string, body []byte) int {
	cc := &comparingCleaner{t: t, c: c}
	src := &mosaic.Source{ID: "s1", Name: "web", WriteKey: "wk"}
	opts := collect.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Cleaner: cc, RecordIP: recordIP}
	h := collect.NewHandler(&countingLog{}, oneSource{src}, noQuarantine{}, opts)
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = "192.0.2.9:1234"
	r.SetBasicAuth("wk", "")
	h.ServeHTTP(httptest.NewRecorder(), r)
	return cc.compared
}

var partsBodies = []struct{ path, body string }{
	{"/v1/batch", `{"batch":[` + browserEvent(1) + `,` + browserEvent(2) + `],"sentAt":"2024-05-01T12:00:00.000Z"}`},
	{"/v1/identify", `{"userId":"u1","traits":{"email":" Ada@Example.COM ","phone":"06 12345678","address":{"country":"Nederland"},"name":"a  b"}}`},
	{"/v1/identify", `{"userId":"u1","traits":{"email":"ada@example.com"}}`},
	{"/v1/track", `{"userId":"u1","event":"E","properties":{"revenue":"12,50"},"context":{"ip":"192.0.2.7","traits":{"email":"X@Y.NL"}}}`},
	{"/v1/track", `{"userId":"u1","event":"E","properties":{"revenue":"12,50"}}`},
	{"/v1/track", `{"userId":"u1","event":"E","context":{"ip":"2001:db8::1"},"properties":{"price":"x"}}`},
	{"/v1/track", `{ "userId" : "u1" , "event" : "E" , "properties" : { "total" : "1.234,56" } , "context" : { "ip" : "192.0.2.1" , "traits" : { "phone" : "bad" } } }`},
	{"/v1/track", `{"userId":"u1","event":"E","\u0074raits":{"email":"A@B.NL"},"properties":{"name":" x "}}`},
	{"/v1/track", `{"userId":"u1","event":"E","properties":{"a":1},"properties":{"email":"A@B.NL"}}`},
	{"/v1/track", `{"userId":"u1","event":"E","context":null,"traits":"x","properties":{"country":"Belgie"}}`},
	{"/v1/batch", `{"batch":[{"type":"identify","userId":"u","traits":{"email":"A@B.NL"}},{"type":"page","anonymousId":"a","properties":{"title":"x"}}],"context":{"ip":"192.0.2.200","traits":{"email":"C@D.NL"}}}`},
	{"/v1/batch", `{"batch":[{"type":"track","userId":"u","event":"E","context":{"locale":"nl"}}],"context":{"ip":"192.0.2.200"}}`},
	{"/v1/page", `{"anonymousId":"a","name":"Home","properties":{"name":"Home  Page"}}`},
	{"/v1/identify", `{"context":{"traits":{"email":"E@F.NL"}},"userId":"u1","traits":{"email":" G@H.NL"},"properties":{"amount":"3"}}`},
	{"/v1/track", `{"userId":"u1","event":"E","context":{ "ip" : "192.0.2.8" , "\u0074raits" : {"email":"A@B.NL"}, "traits":{"email":"Q@R.NL"} },"traits":{},"properties":{}}`},
	{"/v1/batch", `{"batch":[{"type":"track","userId":"u","event":"E","context":{"ip":"192.0.2.3","traits":{"phone":"0612345678"}}},{"type":"identify","userId":"u","context":{}}],"context":{"ip":"192.0.2.200","locale":"nl","traits":{"email":"C@D.NL"}}}`},
}

// TestCleanPartsAgrees: through the Tracking API, cleaning the parts
// collect located gives what cleaning the whole message gives, in every
// IP setting, with and without geolocation, with and without the client's
// address recorded (which always makes a context).
func TestCleanPartsAgrees(t *testing.T) {
	compared := 0
	for _, c := range partsCleaners(t) {
		for _, recordIP := range []bool{true, false} {
			for _, b := range partsBodies {
				compared += sendThrough(t, c, recordIP, b.path, []byte(b.body))
			}
		}
	}
	if compared < 12*len(partsBodies) {
		t.Errorf("compared %d messages; the bodies no longer reach the cleaner", compared)
	}
}

// FuzzCleanParts: the same on any request body.
func FuzzCleanParts(f *testing.F) {
	for _, b := range partsBodies {
		f.Add(b.body, uint8(0))
	}
	cleaners := partsCleaners(f)
	paths := []string{"/v1/batch", "/v1/track", "/v1/identify", "/v1/page"}
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		sendThrough(t, cleaners[int(which)%len(cleaners)], which&0x80 != 0, paths[int(which/8)%len(paths)], []byte(body))
	})
}
