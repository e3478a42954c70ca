package clean

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// enrichAgentReference is enrichAgent as it was before the compact fast
// path: split the message and its context, write them all again. The fast
// path must give the same bytes on every input.
func enrichAgentReference(ua *UserAgents, msg []byte) ([]byte, bool) {
	if !bytes.Contains(msg, userAgentKey) {
		return msg, false
	}
	var buf [memberHint]member
	top, ok := members(msg, buf[:0])
	if !ok {
		return msg, false
	}
	ctx := -1
	for i := range top {
		if string(top[i].Key) == "context" {
			ctx = i
		}
	}
	if ctx < 0 {
		return msg, false
	}
	var cbuf [memberHint]member
	cms, ok := members(top[ctx].Val, cbuf[:0])
	if !ok {
		return msg, false
	}
	agent := ""
	var has [3]bool // browser, os, device
	for i := range cms {
		switch string(cms[i].Key) {
		case "userAgent":
			agent = unquotedAgent(cms[i].Val)
		case "browser":
			has[0] = true
		case "os":
			has[1] = true
		case "device":
			has[2] = true
		}
	}
	if agent == "" {
		return msg, false
	}
	e := ua.entry(agent)
	n := len(cms)
	for i, v := range [3][]byte{e.browser, e.os, e.device} {
		if v != nil && !has[i] {
			cms = append(cms, member{Key: agentKeys[i], Val: v})
		}
	}
	if len(cms) == n {
		return msg, false
	}
	extra := 0
	for _, m := range cms[n:] {
		extra += len(m.Key) + len(m.Val) + 4
	}
	return writeWithContext(make([]byte, 0, len(msg)+extra), top, ctx, cms), true
}

// unquotedAgent is how the reference reads a user agent.
func unquotedAgent(raw []byte) string {
	if s := unquoted(raw); s != "" {
		return s
	}
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	return s
}

const (
	chromeAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	iphoneAgent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)

// enrichCases are messages on both sides of the compact path's limits: the
// first compactCases of them compact.
var enrichCases = []string{
	`{"type":"page","context":{"userAgent":"` + iphoneAgent + `","ip":"1.2.3.4"}}`,
	`{"type":"page","context":{"ip":"1.2.3.4","userAgent":"` + chromeAgent + `"},"timestamp":"2024-01-01T00:00:00Z"}`,
	`{"context":{"userAgent":"` + chromeAgent + `"}}`,
	`{"context":{"os":{"name":"iOS"},"userAgent":"` + iphoneAgent + `"}}`,
	`{"context":{"os":{"name":"iOS"},"device":{"type":"ios"},"browser":{},"userAgent":"` + iphoneAgent + `"}}`,
	`{"context":{"userAgent":"curl\/8.5.0","n":1,"t":true,"x":null,"a":[1,{"b":"}"}]}}`,
	`{"context":{"userAgent":"analytics-node-next/3.1.0"}}`,
	`{"context":{"userAgent":42}}`,
	`{"context":{"userAgent":"` + chromeAgent + `","userAgent":7}}`,
	`{"context":{"userAgent":7,"userAgent":"` + chromeAgent + `"}}`,
	`{"context":{"userAgent":"` + chromeAgent + `"},"context":{"ip":"x"}}`,
	`{"context":{"ip":"x"},"context":{"userAgent":"` + chromeAgent + `"}}`,
	`{"context":{"userAgent":"` + chromeAgent + `"},"context":7}`,
	`{"context":7,"context":{"userAgent":"` + chromeAgent + `"}}`,
	`{"properties":{"context":{"userAgent":"` + chromeAgent + `"}},"context":{}}`,
	`{"properties":{"userAgent":"` + chromeAgent + `"}}`,
	`{"a":}`,
	`{}`,
	// Empty values write again as they were.
	`{"context":{"userAgent":"` + chromeAgent + `","a":}}`,
	`{"context":{"a":,"userAgent":"` + chromeAgent + `"}}`,
	// Not compact: white space, trailing bytes, stray commas, cut short.
	`{ "context":{"userAgent":"` + chromeAgent + `"}}`,
	`{"context": {"userAgent":"` + chromeAgent + `"}}`,
	`{"context":{"userAgent" :"` + chromeAgent + `"}}`,
	`{"context":{"userAgent":"` + chromeAgent + `" }}`,
	`{"context":{"userAgent":"` + chromeAgent + `"} }`,
	`{"context":{"userAgent":"` + chromeAgent + `"}} `,
	`{"context":{"userAgent":"` + chromeAgent + `"}}x`,
	`{"context":{"userAgent":"` + chromeAgent + `",}}`,
	`{"context":{"userAgent":"` + chromeAgent + `"},}`,
	`{"context":{"a":1[,"userAgent":"` + chromeAgent + `"}}`,
	`{"context":{"a":x{,"userAgent":"` + chromeAgent + `"}},"b":"}"}`,
	`{"context":{"a":x",","userAgent":"` + chromeAgent + `"}}`,
	`{"context":{"a":1],"userAgent":"` + chromeAgent + `"}}`,
	`{"context":{"userAgent":"` + chromeAgent + `"`,
	`{"context":{"userAgent":"` + chromeAgent,
	`{"userAgent"}`,
	``,
	`[{"context":{"userAgent":"` + chromeAgent + `"}}]`,
}

const compactCases = 20

func TestEnrichCompactMatchesReference(t *testing.T) {
	ua := testAgents(t)
	for i, c := range enrichCases {
		t.Run("", func(t *testing.T) {
			checkEnrichReference(t, ua, []byte(c))
			if _, _, done := enrichCompact(ua, nil, []byte(c)); done != (i < compactCases) {
				t.Errorf("enrichCompact(%s) done = %v, want %v", c, done, i < compactCases)
			}
		})
	}
}

// checkEnrichReference compares enrichAgent with the reference, appending
// to no buffer, to one with room to spare and to one without: a reader's
// buffer holds the messages kept before, which must stay as they were.
func checkEnrichReference(t *testing.T, ua *UserAgents, msg []byte) {
	t.Helper()
	in := string(msg)
	want, wantOK := enrichAgentReference(ua, msg)
	kept := "kept before"
	for _, dst := range [][]byte{nil, append(make([]byte, 0, 4096), kept...), []byte(kept)} {
		before := string(dst)
		got, ok := enrichAgent(ua, dst, msg)
		if string(dst) != before || string(got[:len(dst)]) != before {
			t.Errorf("enrichAgent(%q, %s) changed the buffer to %q", dst, msg, got)
		}
		if !ok && len(got) != len(dst) {
			t.Errorf("enrichAgent(%q, %s) = %q, false; want the buffer as it was", dst, msg, got)
		}
		if !ok {
			got = msg
		} else {
			got = got[len(dst):]
		}
		if !bytes.Equal(got, want) || ok != wantOK {
			t.Errorf("enrichAgent(%q, %s) =\n %s, %v\nwant\n %s, %v", dst, msg, got, ok, want, wantOK)
		}
	}
	if string(msg) != in {
		t.Errorf("enrichAgent changed its input to %s", msg)
	}
}

// FuzzEnrichCompact holds enrichAgent to the reference on any input.
func FuzzEnrichCompact(f *testing.F) {
	for _, c := range enrichCases {
		f.Add([]byte(c))
	}
	f.Add([]byte(`{"context":{"userAgent":"curl/8.5.0","os":{"a":[{"b":"\""}]}},"x":[]}`))
	ua := testAgents(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		// Mostly known agents: an unknown one costs a millisecond to parse
		// and fills the cache.
		b = []byte(strings.ReplaceAll(string(b), "UA", chromeAgent))
		checkEnrichReference(t, ua, b)
	})
}

// BenchmarkEnrich measures enrichment of a browser event, as each stage
// reading the log does it; one op is one event.
func BenchmarkEnrich(b *testing.B) {
	ua := testAgents(b)
	msg := []byte(`{"type":"page","messageId":"231e1e07-a817-4191-a5db-acff237a3801","anonymousId":"d190375b-57bf-4c92-a5ee-2f29bef9c97f","name":"Cart","properties":{"path":"/cart","url":"https://shop.example.com/cart","title":"Your cart","referrer":"https://shop.example.com/p/gloves"},"context":{"ip":"198.51.100.163","library":{"name":"analytics.js","version":"5.2.0"},"locale":"nl-BE","page":{"path":"/cart","url":"https://shop.example.com/cart","title":"Your cart","referrer":"https://shop.example.com/p/gloves","search":""},"screen":{"width":1920,"height":1080},"timezone":"Europe/Brussels","userAgent":"` + chromeAgent + `"},"originalTimestamp":"2024-01-07T11:36:41.537Z","timestamp":"2026-11-23T09:23:57.858486238Z","sentAt":"2024-01-07T11:36:59.425Z","receivedAt":"2026-11-23T09:24:15.746486238Z"}`)
	for _, c := range []struct {
		name string
		fn   func(*UserAgents, []byte) ([]byte, bool)
	}{{"reference", enrichAgentReference}, {"current", func(ua *UserAgents, msg []byte) ([]byte, bool) {
		return enrichAgent(ua, nil, msg)
	}}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for range b.N {
				if _, ok := c.fn(ua, msg); !ok {
					b.Fatal("not enriched")
				}
			}
		})
	}
	// As Events reads: the enriched message is kept in the page's buffer.
	b.Run("kept", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		buf := make([]byte, 0, 1<<20)
		for range b.N {
			if len(buf)+len(msg)+1<<10 > cap(buf) {
				buf = buf[:0]
			}
			var ok bool
			if buf, ok = enrichAgent(ua, buf, msg); !ok {
				b.Fatal("not enriched")
			}
		}
	})
}
