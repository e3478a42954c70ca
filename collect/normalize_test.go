package collect

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mosaic-cdp/mosaic"
)

var testNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func testLimits() limits {
	o := DefaultOptions()
	return limits{MaxEventBytes: o.MaxEventBytes, MaxEnvelopeBytes: o.MaxEnvelopeBytes, MaxDepth: o.MaxDepth, MaxBatchEvents: o.MaxBatchEvents}
}

// counterIDs returns a NewMessageID that counts: id-1, id-2, ...
func counterIDs() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("id-%d", n) }
}

// normalizeBody decodes and normalises a body as the handler does: a single
// call of pathType, or a batch if pathType is "". Per message it returns the
// output JSON or the rejection code.
func normalizeBody(t *testing.T, pathType, body string) (results []string, bodyErr *mosaic.Error) {
	t.Helper()
	var s scanner
	var d decoded
	lim := testLimits()
	if pathType == "" {
		bodyErr = decodeBatch(&s, &d, []byte(body), lim)
	} else {
		bodyErr = decodeSingle(&s, &d, []byte(body))
	}
	if bodyErr != nil {
		return nil, bodyErr
	}
	n := normalizer{newID: counterIDs(), lim: lim}
	if err := n.reset(pathType, &d.env, testNow); err != nil {
		return nil, err
	}
	for i := range d.items {
		it := &d.items[i]
		out, a, err := n.normalize(nil, it, d.members[it.first:it.last])
		if err != nil {
			results = append(results, "error "+err.Code)
			continue
		}
		var head struct{ Type, MessageID string }
		if err := json.Unmarshal(out, &head); err != nil || head.Type != a.Type || head.MessageID != a.MessageID {
			t.Errorf("accepted %+v does not match output %s (%v)", a, out, err)
		}
		results = append(results, string(out))
	}
	return results, nil
}

const tail = `"timestamp":"2024-05-01T12:00:00Z","receivedAt":"2024-05-01T12:00:00Z"}`

func TestNormalizeSingle(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		in   string
		want string
	}{
		{"track", "track", `{"userId":"u1","event":"Signed Up","properties":{"plan":"pro"}}`,
			`{"type":"track","messageId":"id-1","userId":"u1","event":"Signed Up","properties":{"plan":"pro"},` + tail},
		{"numeric ids kept verbatim", "identify", `{"userId":12345,"anonymousId":1.5e3}`,
			`{"type":"identify","messageId":"id-1","userId":12345,"anonymousId":1.5e3,` + tail},
		{"client messageId kept", "page", `{"messageId":"ajs-\u00e9","anonymousId":"a"}`,
			`{"type":"page","messageId":"ajs-\u00e9","anonymousId":"a",` + tail},
		{"empty messageId replaced", "page", `{"messageId":"","anonymousId":"a"}`,
			`{"type":"page","messageId":"id-1","anonymousId":"a",` + tail},
		{"path type wins over body type", "screen", `{"type":"track","anonymousId":"a","name":"Home"}`,
			`{"type":"screen","messageId":"id-1","anonymousId":"a","name":"Home",` + tail},
		{"verbatim objects", "identify", "{\"userId\":\"u\",\"traits\":{ \"b\" : [1, 2.50, \"\\u00e9\\n\"] ,\"a\":{}},\"context\":{\"ip\":\"1.2.3.4\"}}",
			"{\"type\":\"identify\",\"messageId\":\"id-1\",\"userId\":\"u\",\"traits\":{ \"b\" : [1, 2.50, \"\\u00e9\\n\"] ,\"a\":{}},\"context\":{\"ip\":\"1.2.3.4\"}," + tail},
		{"unknown fields kept", "track", `{"userId":"u","event":"E","_metadata":{"nodeVersion":"20"},"channel":"server"}`,
			`{"type":"track","messageId":"id-1","userId":"u","event":"E","_metadata":{"nodeVersion":"20"},"channel":"server",` + tail},
		{"writeKey and server fields dropped", "track", `{"writeKey":"k","userId":"u","event":"E","receivedAt":"2000-01-01T00:00:00Z","originalTimestamp":"x"}`,
			`{"type":"track","messageId":"id-1","userId":"u","event":"E",` + tail},
		{"repeated key: last wins", "track", `{"userId":"u","event":"A","event":"B"}`,
			`{"type":"track","messageId":"id-1","userId":"u","event":"B",` + tail},
		{"escaped known key", "track", `{"\u0075serId":"u","event":"E"}`,
			`{"type":"track","messageId":"id-1","\u0075serId":"u","event":"E",` + tail},
		{"nulls allowed", "track", `{"userId":"u","anonymousId":null,"event":"E","properties":null,"timestamp":null}`,
			`{"type":"track","messageId":"id-1","userId":"u","anonymousId":null,"event":"E","properties":null,` + tail},
		{"timestamp without sentAt kept", "track", `{"userId":"u","event":"E","timestamp":"2024-04-30T10:00:00.5+02:00"}`,
			`{"type":"track","messageId":"id-1","userId":"u","event":"E","originalTimestamp":"2024-04-30T10:00:00.5+02:00","timestamp":"2024-04-30T08:00:00.5Z","receivedAt":"2024-05-01T12:00:00Z"}`},
		{"clock skew corrected", "track", `{"userId":"u","event":"E","timestamp":"2024-05-01T12:59:50Z","sentAt":"2024-05-01T13:00:00Z"}`,
			`{"type":"track","messageId":"id-1","userId":"u","event":"E","originalTimestamp":"2024-05-01T12:59:50Z","timestamp":"2024-05-01T11:59:50Z","sentAt":"2024-05-01T13:00:00Z","receivedAt":"2024-05-01T12:00:00Z"}`},
		{"sentAt without timestamp", "track", `{"userId":"u","event":"E","sentAt":"2024-05-01T13:00:00Z"}`,
			`{"type":"track","messageId":"id-1","userId":"u","event":"E","timestamp":"2024-05-01T12:00:00Z","sentAt":"2024-05-01T13:00:00Z","receivedAt":"2024-05-01T12:00:00Z"}`},
		{"offset without colon", "track", `{"userId":"u","event":"E","timestamp":"2024-05-01T10:00:00.000+0000"}`,
			`{"type":"track","messageId":"id-1","userId":"u","event":"E","originalTimestamp":"2024-05-01T10:00:00.000+0000","timestamp":"2024-05-01T10:00:00Z","receivedAt":"2024-05-01T12:00:00Z"}`},
		{"alias", "alias", `{"userId":"new","previousId":"old"}`,
			`{"type":"alias","messageId":"id-1","userId":"new","previousId":"old",` + tail},
		{"group", "group", `{"userId":"u","groupId":42,"traits":{"name":"Acme"}}`,
			`{"type":"group","messageId":"id-1","userId":"u","groupId":42,"traits":{"name":"Acme"},` + tail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalizeBody(t, tt.typ, tt.in)
			if err != nil {
				t.Fatalf("normalize(%s) body error %v", tt.in, err)
			}
			if diff := cmp.Diff([]string{tt.want}, got); diff != "" {
				t.Errorf("normalize(%s) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	deep := strings.Repeat(`[`, 32) + strings.Repeat(`]`, 32)
	tests := []struct {
		name string
		typ  string
		in   string
		code string
	}{
		{"no identity", "track", `{"event":"E"}`, mosaic.EMISSINGID},
		{"empty identities", "identify", `{"userId":"","anonymousId":null}`, mosaic.EMISSINGID},
		{"identity of wrong type", "identify", `{"userId":true}`, mosaic.EINVALIDFIELD},
		{"track without event", "track", `{"userId":"u"}`, mosaic.EMISSINGEVENT},
		{"track with empty event", "track", `{"userId":"u","event":""}`, mosaic.EMISSINGEVENT},
		{"event not a string", "track", `{"userId":"u","event":7}`, mosaic.EINVALIDFIELD},
		{"properties not an object", "track", `{"userId":"u","event":"E","properties":"x"}`, mosaic.EINVALIDFIELD},
		{"traits an array", "identify", `{"userId":"u","traits":[]}`, mosaic.EINVALIDFIELD},
		{"context a number", "page", `{"userId":"u","context":1}`, mosaic.EINVALIDFIELD},
		{"messageId a number", "page", `{"userId":"u","messageId":1}`, mosaic.EINVALIDFIELD},
		{"timestamp not a date", "page", `{"userId":"u","timestamp":"yesterday"}`, mosaic.EINVALIDFIELD},
		{"timestamp a number", "page", `{"userId":"u","timestamp":1714564800}`, mosaic.EINVALIDFIELD},
		{"sentAt not a date", "page", `{"userId":"u","sentAt":"2024-13-01T00:00:00Z"}`, mosaic.EINVALIDFIELD},
		{"skew out of range", "page", `{"userId":"u","timestamp":"9999-01-01T00:00:00Z","sentAt":"1000-01-01T00:00:00Z"}`, mosaic.EINVALIDFIELD},
		{"alias without previousId", "alias", `{"userId":"u"}`, mosaic.EINVALIDFIELD},
		{"alias without userId", "alias", `{"anonymousId":"a","previousId":"p"}`, mosaic.EMISSINGID},
		{"group without groupId", "group", `{"userId":"u"}`, mosaic.EINVALIDFIELD},
		{"NUL in properties", "track", `{"userId":"u","event":"E","properties":{"a":"x\u0000"}}`, mosaic.EINVALIDFIELD},
		{"NUL in an unknown field", "track", `{"userId":"u","event":"E","x":["\u0000"]}`, mosaic.EINVALIDFIELD},
		{"NUL in a key", "track", `{"userId":"u","event":"E","\u0000":1}`, mosaic.EINVALIDFIELD},
		{"lone surrogate", "track", `{"userId":"u","event":"\udead"}`, mosaic.EINVALIDFIELD},
		{"too deep", "track", `{"userId":"u","event":"E","properties":{"a":` + deep + `}}`, mosaic.ETOODEEP},
		{"too large", "track", `{"userId":"u","event":"E","properties":{"a":"` + strings.Repeat("x", 32<<10) + `"}}`, mosaic.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalizeBody(t, tt.typ, tt.in)
			if err != nil {
				t.Fatalf("normalize(%.80s) body error %v", tt.in, err)
			}
			if want := []string{"error " + tt.code}; !cmp.Equal(got, want) {
				t.Errorf("normalize(%.80s) = %.200q, want %q", tt.in, got, want)
			}
		})
	}
}

func TestNormalizeDepthLimit(t *testing.T) {
	// The message object counts 1, so 31 more levels are allowed.
	in := `{"userId":"u","x":` + strings.Repeat(`[`, 31) + strings.Repeat(`]`, 31) + `}`
	got, err := normalizeBody(t, "identify", in)
	if err != nil || len(got) != 1 || strings.HasPrefix(got[0], "error") {
		t.Fatalf("normalize(32 levels) = %v, %v; want accepted", got, err)
	}
}

func TestNormalizeBatch(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"envelope context and integrations merged, item keys win",
			`{"context":{"library":{"name":"analytics-go"},"ip":"0.0.0.0"},"integrations":{"All":false},"batch":[` +
				`{"type":"track","userId":"u","event":"E","context":{"ip":"1.2.3.4"}},` +
				`{"type":"identify","userId":"u","integrations":{}}]}`,
			[]string{
				`{"type":"track","messageId":"id-1","userId":"u","event":"E","context":{"library":{"name":"analytics-go"},"ip":"1.2.3.4"},"integrations":{"All":false},` + tail,
				`{"type":"identify","messageId":"id-2","userId":"u","context":{"library":{"name":"analytics-go"},"ip":"0.0.0.0"},"integrations":{"All":false},` + tail,
			}},
		{"envelope sentAt applies to items without their own",
			`{"sentAt":"2024-05-01T12:00:10Z","batch":[` +
				`{"type":"page","anonymousId":"a","timestamp":"2024-05-01T12:00:05Z"},` +
				`{"type":"page","anonymousId":"a","timestamp":"2024-05-01T12:00:05Z","sentAt":"2024-05-01T12:00:05Z"}]}`,
			[]string{
				`{"type":"page","messageId":"id-1","anonymousId":"a","originalTimestamp":"2024-05-01T12:00:05Z","timestamp":"2024-05-01T11:59:55Z","sentAt":"2024-05-01T12:00:10Z","receivedAt":"2024-05-01T12:00:00Z"}`,
				`{"type":"page","messageId":"id-2","anonymousId":"a","originalTimestamp":"2024-05-01T12:00:05Z","timestamp":"2024-05-01T12:00:00Z","sentAt":"2024-05-01T12:00:05Z","receivedAt":"2024-05-01T12:00:00Z"}`,
			}},
		{"bad items rejected one by one",
			`{"batch":[{"userId":"u"},{"type":"Track","userId":"u"},{"type":7,"userId":"u"},"x",[],{"type":"alias","userId":"u","previousId":"p"}]}`,
			[]string{"error unknown_type", "error unknown_type", "error invalid_field", "error invalid_field", "error invalid_field",
				`{"type":"alias","messageId":"id-1","userId":"u","previousId":"p",` + tail}},
		{"empty own context gets the envelope's",
			`{"context":{"a":1},"batch":[{"type":"identify","userId":"u","context":{ }}]}`,
			[]string{`{"type":"identify","messageId":"id-1","userId":"u","context":{"a":1},` + tail}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalizeBody(t, "", tt.in)
			if err != nil {
				t.Fatalf("normalize batch: body error %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("normalize(%s) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestDecodeBatchErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		code string
	}{
		{"not JSON", `{"batch":[`, mosaic.EINVALIDJSON},
		{"invalid UTF-8", "{\"batch\":[{\"type\":\"track\",\"event\":\"\xff\"}]}", mosaic.EINVALIDJSON},
		{"invalid JSON after the batch", `{"batch":[{"type":"page","userId":"u"}],}`, mosaic.EINVALIDJSON},
		{"not an object", `[{"type":"page"}]`, mosaic.EINVALIDFIELD},
		{"no batch", `{"writeKey":"k"}`, mosaic.EEMPTYBATCH},
		{"null batch", `{"batch":null}`, mosaic.EEMPTYBATCH},
		{"empty batch", `{"batch":[ ]}`, mosaic.EEMPTYBATCH},
		{"batch an object", `{"batch":{}}`, mosaic.EINVALIDFIELD},
		{"envelope context a string", `{"context":"x","batch":[{}]}`, mosaic.EINVALIDFIELD},
		{"envelope context with NUL", `{"context":{"a":"\u0000"},"batch":[{}]}`, mosaic.EINVALIDFIELD},
		{"envelope too deep", `{"context":{"a":` + strings.Repeat("[", 31) + strings.Repeat("]", 31) + `},"batch":[{}]}`, mosaic.ETOODEEP},
		{"envelope too large", `{"context":{"a":"` + strings.Repeat("x", 8<<10) + `"},"batch":[{}]}`, mosaic.ETOOLARGE},
		{"too many messages", `{"batch":[` + strings.Repeat(`{},`, 2500) + `{}]}`, mosaic.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s scanner
			var d decoded
			err := decodeBatch(&s, &d, []byte(tt.in), testLimits())
			if codeOf(err) != tt.code {
				t.Errorf("decodeBatch(%.60q) = %v, want code %s", tt.in, err, tt.code)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-05-01T12:00:00Z", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), true},
		{"2024-05-01T12:00:00.123456789Z", time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC), true},
		{"2024-05-01T14:00:00+02:00", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), true},
		{"2024-05-01T14:00:00.250+0200", time.Date(2024, 5, 1, 12, 0, 0, 250e6, time.UTC), true},
		{"2024-05-01T12:00:00", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), true},
		{"2024-05-01", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), true},
		{"2024-05-01 12:00:00", time.Time{}, false},
		{"1714564800", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseTime(tt.in)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("parseTime(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
