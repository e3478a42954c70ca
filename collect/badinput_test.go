package collect

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mosaic-cdp/mosaic"
)

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBadInput sends every kind of bad input of the Tracking API and checks
// the status, the error code, what was stored (the valid messages of the same
// request, nothing else) and what was quarantined.
func TestBadInput(t *testing.T) {
	big := strings.Repeat("x", 33<<10)
	deep := strings.Repeat("[", 32) + strings.Repeat("]", 32)
	bomb := gzipped(t, append(append([]byte(`{"batch":[`), bytes.Repeat([]byte(" "), 2<<20)...), track("m1")+`]}`...))
	corrupt := gzipped(t, batchOf(track("m1")))
	corrupt[len(corrupt)-6] ^= 0xff // breaks the CRC
	tests := []struct {
		name        string
		path        string
		body        []byte
		headers     []string
		status      int
		code        string   // "" for a 200
		stored      []string // messageIds in the log afterwards
		quarantined []string // "index:code"
		rejected    []int    // indexes listed in the response
	}{
		{name: "malformed JSON single", path: "/v1/track", body: []byte(`{"userId":"u1","event":`),
			status: 400, code: mosaic.EINVALIDJSON},
		{name: "malformed JSON in one batch item", path: "/v1/batch", body: []byte(`{"batch":[` + track("m1") + `,{"type":"track",}]}`),
			status: 400, code: mosaic.EINVALIDJSON},
		{name: "invalid UTF-8", path: "/v1/batch", body: batchOf(track("m1"), "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"\xc3\x28\"}"),
			status: 400, code: mosaic.EINVALIDJSON},
		{name: "wrong type in one item", path: "/v1/batch", body: batchOf(track("m1"), `{"type":"track","messageId":"m2","userId":"u1","event":"E","properties":"oops"}`, track("m3")),
			status: 200, stored: []string{"m1", "m3"}, quarantined: []string{"1:invalid_field"}, rejected: []int{1}},
		{name: "body over 500 KB", path: "/v1/batch", body: batchOf(track("m1"), `{"pad":"`+strings.Repeat("x", 500<<10)+`"}`),
			status: 413, code: mosaic.ETOOLARGE},
		{name: "event over 32 KB in a batch", path: "/v1/batch", body: batchOf(track("m1"), `{"type":"track","userId":"u","event":"E","properties":{"big":"`+big+`"}}`, track("m3")),
			status: 200, stored: []string{"m1", "m3"}, quarantined: []string{"1:too_large"}, rejected: []int{1}},
		{name: "event over 32 KB single", path: "/v1/track", body: []byte(`{"userId":"u","event":"E","properties":{"big":"` + big + `"}}`),
			status: 413, code: mosaic.ETOOLARGE, quarantined: []string{"0:too_large"}},
		{name: "nesting over 32 levels in a batch", path: "/v1/batch", body: batchOf(`{"type":"identify","userId":"u","traits":{"a":`+deep+`}}`, track("m2")),
			status: 200, stored: []string{"m2"}, quarantined: []string{"0:too_deep"}, rejected: []int{0}},
		{name: "nesting over 32 levels single", path: "/v1/identify", body: []byte(`{"userId":"u","traits":{"a":` + deep + `}}`),
			status: 400, code: mosaic.ETOODEEP, quarantined: []string{"0:too_deep"}},
		{name: "gzip bomb", path: "/v1/batch", body: bomb, headers: []string{"Content-Encoding", "gzip"},
			status: 413, code: mosaic.ETOOLARGE},
		{name: "corrupt gzip", path: "/v1/batch", body: corrupt, headers: []string{"Content-Encoding", "gzip"},
			status: 400, code: mosaic.EBADENCODING},
		{name: "not gzip at all", path: "/v1/batch", body: batchOf(track("m1")), headers: []string{"Content-Encoding", "gzip"},
			status: 400, code: mosaic.EBADENCODING},
		{name: "unsupported encoding", path: "/v1/batch", body: batchOf(track("m1")), headers: []string{"Content-Encoding", "br"},
			status: 400, code: mosaic.EBADENCODING},
		{name: "no userId and no anonymousId", path: "/v1/batch", body: batchOf(track("m1"), `{"type":"page","name":"Home"}`),
			status: 200, stored: []string{"m1"}, quarantined: []string{"1:missing_identity"}, rejected: []int{1}},
		{name: "no identity single", path: "/v1/page", body: []byte(`{"name":"Home"}`),
			status: 400, code: mosaic.EMISSINGID, quarantined: []string{"0:missing_identity"}},
		{name: "track without event", path: "/v1/batch", body: batchOf(`{"type":"track","userId":"u"}`, track("m2")),
			status: 200, stored: []string{"m2"}, quarantined: []string{"0:missing_event"}, rejected: []int{0}},
		{name: "track without event single", path: "/v1/t", body: []byte(`{"userId":"u"}`),
			status: 400, code: mosaic.EMISSINGEVENT, quarantined: []string{"0:missing_event"}},
		{name: "unknown call type", path: "/v1/batch", body: batchOf(track("m1"), `{"type":"purchase","userId":"u"}`),
			status: 200, stored: []string{"m1"}, quarantined: []string{"1:unknown_type"}, rejected: []int{1}},
		{name: "NUL escape", path: "/v1/batch", body: batchOf(track("m1"), `{"type":"track","userId":"u","event":"a\u0000b"}`),
			status: 200, stored: []string{"m1"}, quarantined: []string{"1:invalid_field"}, rejected: []int{1}},
		{name: "every item rejected", path: "/v1/batch", body: batchOf(`{"type":"track"}`, `{}`),
			status: 400, code: mosaic.EALLREJECTED, quarantined: []string{"0:missing_identity", "1:unknown_type"}, rejected: []int{0, 1}},
		{name: "empty batch", path: "/v1/batch", body: []byte(`{"batch":[]}`),
			status: 400, code: mosaic.EEMPTYBATCH},
		{name: "no batch field", path: "/v1/batch", body: []byte(`{"userId":"u"}`),
			status: 400, code: mosaic.EEMPTYBATCH},
		{name: "body not an object", path: "/v1/track", body: []byte(`["x"]`),
			status: 400, code: mosaic.EINVALIDFIELD},
		{name: "empty body", path: "/v1/track", body: nil,
			status: 400, code: mosaic.EINVALIDJSON},
		{name: "unknown write key", path: "/v1/batch", body: batchOf(track("m1")), headers: []string{"Authorization", basic("nope")},
			status: 401, code: mosaic.EUNAUTHORIZED},
		{name: "unknown write key in body", path: "/v1/batch", body: []byte(`{"writeKey":"nope","batch":[` + track("m1") + `]}`), headers: []string{"Authorization", ""},
			status: 401, code: mosaic.EUNAUTHORIZED},
		{name: "no write key", path: "/v1/batch", body: batchOf(track("m1")), headers: []string{"Authorization", ""},
			status: 401, code: mosaic.EUNAUTHORIZED},
		{name: "write key not a string", path: "/v1/track", body: []byte(`{"writeKey":7,"userId":"u","event":"E"}`), headers: []string{"Authorization", ""},
			status: 401, code: mosaic.EUNAUTHORIZED},
		{name: "admin bearer token", path: "/v1/batch", body: batchOf(track("m1")), headers: []string{"Authorization", "Bearer admintoken"},
			status: 401, code: mosaic.EUNAUTHORIZED},
		{name: "bearer with body key", path: "/v1/batch", body: []byte(`{"writeKey":"` + testKey + `","batch":[` + track("m1") + `]}`), headers: []string{"Authorization", "Bearer x"},
			status: 401, code: mosaic.EUNAUTHORIZED},
		{name: "unknown auth scheme", path: "/v1/batch", body: batchOf(track("m1")), headers: []string{"Authorization", "Digest x"},
			status: 401, code: mosaic.EUNAUTHORIZED},
		{name: "basic not base64", path: "/v1/batch", body: batchOf(track("m1")), headers: []string{"Authorization", "Basic !!!"},
			status: 401, code: mosaic.EUNAUTHORIZED},
		{name: "XML content type", path: "/v1/batch", body: batchOf(track("m1")), headers: []string{"Content-Type", "application/xml"},
			status: 415, code: mosaic.EUNSUPPORTED},
		{name: "form content type with a form body", path: "/v1/track", body: []byte(`userId=u`), headers: []string{"Content-Type", "application/x-www-form-urlencoded"},
			status: 400, code: mosaic.EINVALIDJSON},
		{name: "unknown endpoint", path: "/v1/purchase", body: []byte(`{}`),
			status: 404, code: mosaic.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			w := e.post(t, tt.path, tt.body, tt.headers...)
			resp := decodeResponse(t, w)
			if w.Code != tt.status || resp.Error.Code != tt.code {
				t.Fatalf("POST %s = %d %q, want %d %q; body %s", tt.path, w.Code, resp.Error.Code, tt.status, tt.code, w.Body)
			}
			if tt.code != "" && len(resp.Error.Message) < 20 {
				t.Errorf("error message %q says too little", resp.Error.Message)
			}
			if got := e.storedIDs(t); !cmp.Equal(got, tt.stored, cmpEmpty) {
				t.Errorf("stored %v, want %v", got, tt.stored)
			}
			if got := e.quarantined(); !cmp.Equal(got, tt.quarantined, cmpEmpty) {
				t.Errorf("quarantined %v, want %v", got, tt.quarantined)
			}
			var got []int
			for _, r := range resp.Rejected {
				got = append(got, r.Index)
			}
			if !cmp.Equal(got, tt.rejected, cmpEmpty) {
				t.Errorf("response lists rejected %v, want %v", got, tt.rejected)
			}
			if w.Header().Get("Access-Control-Allow-Origin") == "" {
				t.Errorf("response has no Access-Control-Allow-Origin")
			}
		})
	}
}

// cmpEmpty makes nil and empty slices equal.
var cmpEmpty = cmpopts.EquateEmpty()

func TestQuarantineKeepsRawBytes(t *testing.T) {
	e := newTestEnv(t)
	bad := `{"type":"track", "userId":"u" ,"event":""}`
	w := e.post(t, "/v1/batch", batchOf(track("m1"), bad))
	if w.Code != http.StatusOK {
		t.Fatalf("POST = %d %s, want 200", w.Code, w.Body)
	}
	q := e.q.all()
	if len(q) != 1 || string(q[0].Raw) != bad || q[0].SourceID != testSource.ID || q[0].Code != mosaic.EMISSINGEVENT ||
		!q[0].ReceivedAt.Equal(testNow) || q[0].Reason == "" {
		t.Fatalf("quarantine = %+v, want the raw item %s of %s with code %s, a reason and receivedAt", q, bad, testSource.ID, mosaic.EMISSINGEVENT)
	}
}
