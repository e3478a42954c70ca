package collect

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	lb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, c := range []struct {
		name, peer string
		xff        []string
		trusted    []netip.Prefix
		want       string
	}{
		{"peer", "192.0.2.7:5123", nil, nil, "192.0.2.7"},
		{"header ignored without trusted proxies", "192.0.2.7:5123", []string{"198.51.100.1"}, nil, "192.0.2.7"},
		{"header ignored from an untrusted peer", "192.0.2.7:5123", []string{"198.51.100.1"}, lb, "192.0.2.7"},
		{"through a trusted proxy", "10.1.2.3:80", []string{"198.51.100.1"}, lb, "198.51.100.1"},
		{"the nearest untrusted hop", "10.1.2.3:80", []string{"203.0.113.9, 198.51.100.1, 10.9.9.9"}, lb, "198.51.100.1"},
		{"headers repeated", "10.1.2.3:80", []string{"203.0.113.9", "198.51.100.1"}, lb, "198.51.100.1"},
		{"a hop that is not an address stops", "10.1.2.3:80", []string{"198.51.100.1, unknown"}, lb, "10.1.2.3"},
		{"only proxies", "10.1.2.3:80", []string{"10.0.0.1"}, lb, "10.0.0.1"},
		{"IPv6 peer", "[2001:db8::1]:443", nil, lb, "2001:db8::1"},
		{"IPv4-mapped peer", "[::ffff:192.0.2.7]:443", nil, nil, "192.0.2.7"},
		{"IPv6 through a proxy", "[fd00::5]:443", []string{"2001:db8::9"}, lb, "2001:db8::9"},
		{"unreadable peer", "pipe", nil, nil, "invalid IP"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v1/track", nil)
			r.RemoteAddr = c.peer
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, c.trusted).String(); got != c.want {
				t.Errorf("clientIP(%s, %q) = %s, want %s", c.peer, c.xff, got, c.want)
			}
		})
	}
}

// TestRecordIP: with RecordIP the client's address fills context.ip of
// messages that carry none; a message's own context.ip and a batch's
// context.ip win; imports (Ingest) get no address.
func TestRecordIP(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.RecordIP = true })
	body := batchOf(`{"type":"track","userId":"u","event":"A"}`,
		`{"type":"track","userId":"u","event":"B","context":{"ip":"198.51.100.4","locale":"nl"}}`)
	if w := e.post(t, "/v1/batch", body); w.Code != 200 {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	if w := e.post(t, "/v1/batch", []byte(`{"batch":[{"type":"track","userId":"u","event":"C"}],"context":{"ip":"203.0.113.8"}}`)); w.Code != 200 {
		t.Fatalf("POST = %d %s", w.Code, w.Body)
	}
	if _, err := e.h.Ingest(context.Background(), testSource, []byte(`{"batch":[{"type":"identify","userId":"u"}]}`)); err != nil {
		t.Fatal(err)
	}
	want := []string{"192.0.2.1", "198.51.100.4", "203.0.113.8", ""} // httptest's peer is 192.0.2.1
	evs := e.log.events(t)
	if len(evs) != len(want) {
		t.Fatalf("%d events stored, want %d", len(evs), len(want))
	}
	for i, ev := range evs {
		var m struct {
			Context struct{ IP string } `json:"context"`
		}
		if err := json.Unmarshal(ev.Message, &m); err != nil {
			t.Fatal(err)
		}
		if m.Context.IP != want[i] {
			t.Errorf("event %d: context.ip %q, want %q (%s)", i, m.Context.IP, want[i], ev.Message)
		}
	}
}
