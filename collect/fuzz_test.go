package collect

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mosaic-cdp/mosaic"
)

// Seeds shared by the fuzz targets; more are in testdata/fuzz.
var fuzzSeeds = []string{
	`{"userId":"u1","event":"Signed Up","properties":{"plan":"pro","n":[1,2.5e3,null,true]}}`,
	`{"anonymousId":7,"timestamp":"2024-05-01T12:00:00Z","sentAt":"2024-05-01T12:00:01.5+0200","context":{"ip":"1.2.3.4"}}`,
	`{"userId":"\u00e9\ud83d\ude00","previousId":"p","groupId":"g","event":"E","messageId":"m"}`,
	`{"batch":[{"type":"track","userId":"u","event":"E"},{"type":"alias","userId":"u","previousId":"p"},"x"],"context":{"library":{"name":"analytics-go"}},"integrations":{"All":true},"sentAt":"2024-05-01T12:00:00Z","writeKey":"k"}`,
	`{"batch":[{"type":"identify","userId":"u","context":{"ip":"1"},"\u0063ontext":{"a":1}}],"context":{"\u0061":2,"ip":"0"}}`,
	`{"event":"a\u0000","userId":"\udead","x":"\ud800\u0041"}`,
	"{\"userId\":\"\xff\"}",
	`{"userId":"u","event":"E","event":null,"type":"group","groupId":[]}`,
}

func FuzzScan(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s scanner
		_, err := s.validate(data)
		if want := json.Valid(data) && utf8.Valid(data); (err == nil) != want {
			t.Fatalf("validate(%q) = %v, but encoding/json and utf8 say valid = %v", data, err, want)
		}
	})
}

func FuzzDecodeBatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var s scanner
		var d decoded
		lim := testLimits()
		err := decodeBatch(&s, &d, body, lim)
		valid := json.Valid(body) && utf8.Valid(body)
		switch code := codeOf(err); {
		case valid && code == mosaic.EINVALIDJSON:
			t.Fatalf("decodeBatch(%q) = %v for valid JSON", body, err)
		case !valid && err == nil:
			t.Fatalf("decodeBatch(%q) accepted invalid JSON", body)
		case err != nil:
			return
		}
		n := normalizer{newID: counterIDs(), lim: lim}
		if n.reset("", &d.env, testNow) != nil {
			return
		}
		for i := range d.items {
			it := &d.items[i]
			if !json.Valid(it.raw) {
				t.Fatalf("item %d raw %q is not JSON", i, it.raw)
			}
			out, _, rej := n.normalize(nil, it, d.members[it.first:it.last])
			if rej == nil {
				checkOutput(t, out)
				checkMerged(t, "context", d.env.context.val, it.raw, out)
				checkMerged(t, "integrations", d.env.integrations.val, it.raw, out)
			}
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds {
		for typ := range 6 {
			f.Add([]byte(s), uint8(typ))
		}
	}
	types := []string{mosaic.TypeIdentify, mosaic.TypeTrack, mosaic.TypePage, mosaic.TypeScreen, mosaic.TypeGroup, mosaic.TypeAlias}
	f.Fuzz(func(t *testing.T, body []byte, typ uint8) {
		var s scanner
		var d decoded
		if decodeSingle(&s, &d, body) != nil {
			return
		}
		n := normalizer{newID: counterIDs(), lim: testLimits()}
		if err := n.reset(types[int(typ)%len(types)], &d.env, testNow); err != nil {
			t.Fatalf("reset without an envelope failed: %v", err)
		}
		it := &d.items[0]
		out, a, rej := n.normalize(nil, it, d.members[it.first:it.last])
		if rej != nil {
			if len(out) != 0 || rej.Code == "" || rej.Message == "" {
				t.Fatalf("rejection %+v with output %q", rej, out)
			}
			return
		}
		got := checkOutput(t, out)
		if string(got["type"]) != `"`+a.Type+`"` {
			t.Errorf("stored type %s, want %q", got["type"], a.Type)
		}
		var in map[string]json.RawMessage
		if err := json.Unmarshal(body, &in); err != nil {
			t.Fatalf("accepted body %q does not unmarshal: %v", body, err)
		}
		for k, v := range in {
			if f := fieldOf([]byte(k)); n.serverSet(f) {
				continue
			}
			if !bytes.Equal(got[k], v) {
				t.Errorf("field %q stored as %s, want it verbatim: %s", k, got[k], v)
			}
		}
		if m := in["messageId"]; len(m) > 2 && m[0] == '"' && !bytes.Equal(got["messageId"], m) {
			t.Errorf("messageId stored as %s, want the client's %s", got["messageId"], m)
		}
	})
}

// codeOf returns e's code, "" for nil (a nil *mosaic.Error must not become a
// non-nil error).
func codeOf(e *mosaic.Error) string {
	if e == nil {
		return ""
	}
	return e.Code
}

// checkOutput checks a normalised message is valid JSON with the fields the
// server sets, and returns its fields.
func checkOutput(t *testing.T, out []byte) map[string]json.RawMessage {
	t.Helper()
	if !json.Valid(out) || !utf8.Valid(out) {
		t.Fatalf("output %q is not valid JSON", out)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	var ts, received string
	if json.Unmarshal(got["timestamp"], &ts) != nil || json.Unmarshal(got["receivedAt"], &received) != nil {
		t.Fatalf("output %q lacks timestamp or receivedAt strings", out)
	}
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		t.Errorf("output timestamp %q: %v", ts, err)
	}
	if received != "2024-05-01T12:00:00Z" {
		t.Errorf("output receivedAt %q, want the server time", received)
	}
	var id string
	if json.Unmarshal(got["messageId"], &id) != nil || id == "" {
		t.Errorf("output %q has no messageId", out)
	}
	return got
}

// checkMerged checks that field name of out is env's object overlaid with
// the item's own.
func checkMerged(t *testing.T, name string, env, raw, out []byte) {
	t.Helper()
	var e, own map[string]json.RawMessage
	if json.Unmarshal(env, &e) != nil || len(e) == 0 {
		return
	}
	var item, got map[string]json.RawMessage
	_ = json.Unmarshal(raw, &item)
	_ = json.Unmarshal(out, &got)
	_ = json.Unmarshal(item[name], &own)
	for k, v := range own {
		e[k] = v
	}
	var merged map[string]json.RawMessage
	if err := json.Unmarshal(got[name], &merged); err != nil {
		t.Fatalf("merged %s %s: %v", name, got[name], err)
	}
	if diff := cmp.Diff(e, merged, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("merged %s mismatch (-want +got):\n%s", name, diff)
	}
}
