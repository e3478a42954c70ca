package live

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzReadMessage holds readMessage to json.Unmarshal on every valid
// message.
func FuzzReadMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"track","event":"Order Completed","timestamp":"2026-01-02T03:04:05Z","properties":{"revenue":12.5},"context":{"timezone":"Europe/Amsterdam"}}`,
		`{"type":"page","name":"Home","context":null}`,
		`{"Type":"track","EVENT":"Viewed","type":"page"}`,
		`{"type":"track","event":5}`,
		`{"type":"track","context":"web"}`,
		`{"type":"track","context":{"timezone":null,"TimeZone":"UTC"}}`,
		`{"ty\u0070e":"track","event":null,"properties":null}`,
		`{"type":"track","context":{"timezone":["x"]}}`,
		`[]`, `"x"`, `{}`,
		`{"\u0074ype":"page","timeſtamp":"2026-01-02T03:04:05Z","Context":{"TIMEZONE":"UTC"}}`,
		`{"propertieſ":{"a":1},"|":1,"\u0065vent":"Order Completed","type":"track"}`,
		`{"EVENT":"x","event":"y","\\":"z","":0,"é":"a"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return // stored messages are valid JSON
		}
		var want message
		wantOK := json.Unmarshal(b, &want) == nil
		got, ok := readMessage(b)
		if ok != wantOK {
			t.Fatalf("readMessage(%s) ok = %v, json.Unmarshal ok = %v", b, ok, wantOK)
		}
		if ok && !cmp.Equal(got, want, cmp.Comparer(func(a, b json.RawMessage) bool { return string(a) == string(b) })) {
			t.Fatalf("readMessage(%s) = %+v, json.Unmarshal gives %+v", b, got, want)
		}
	})
}

// storedMessages are a page view and a product view as the server stores
// the synthetic journeys' events (collect adds the times at the end).
var storedMessages = []string{
	`{"type":"page","messageId":"940e7841-acce-4714-90b2-d8daebe129cb","anonymousId":"137fde0a-9a9f-44b5-9c77-7d8981640a86","name":"Product","properties":{"path":"/p/trekking-pack-45l","referrer":"https://www.example.com/","title":"Trekking Pack 45L | Northpeak Outdoor","url":"https://www.example.com/p/trekking-pack-45l"},"context":{"ip":"198.51.100.154","library":{"name":"analytics.js","version":"npm:next-1.70.0"},"locale":"nl-NL","timezone":"Europe/Amsterdam","userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36","page":{"path":"/p/trekking-pack-45l","referrer":"https://www.example.com/","title":"Trekking Pack 45L | Northpeak Outdoor","url":"https://www.example.com/p/trekking-pack-45l"}},"originalTimestamp":"2024-01-01T00:10:41.513Z","timestamp":"2026-11-23T06:24:06.431818327Z","sentAt":"2024-01-01T00:10:41.750Z","receivedAt":"2026-11-23T06:24:06.668818327Z"}`,
	`{"type":"track","messageId":"ba87be48-ba5c-4835-b8bb-837b232bcd35","anonymousId":"0b1ba7e1-be39-4a2f-afa6-5032f3ba1c6d","event":"Product Viewed","properties":{"product_id":"P-10533","sku":"PB-10K","category":"Electronics","name":"Solar Power Bank 10,000 mAh","brand":"Lumen Works","price":49.90,"currency":"GBP"},"context":{"ip":"203.0.113.30","library":{"name":"analytics.js","version":"npm:next-1.70.0"},"locale":"en-GB","timezone":"Europe/London","userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36","page":{"path":"/p/solar-power-bank","referrer":"https://www.example.com/","title":"Solar Power Bank 10,000 mAh | Northpeak Outdoor","url":"https://www.example.com/p/solar-power-bank"}},"originalTimestamp":"2024-01-01T00:10:42.880Z","timestamp":"2026-11-23T06:24:06.432818327Z","sentAt":"2024-01-01T00:10:43.268Z","receivedAt":"2026-11-23T06:24:06.820818327Z"}`,
}

// BenchmarkReadMessage measures the read of one stored message, as the
// observer does for every page view, order and engagement event.
func BenchmarkReadMessage(b *testing.B) {
	for i, s := range storedMessages {
		msg := []byte(s)
		b.Run([]string{"page", "track"}[i], func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := readMessage(msg); !ok {
					b.Fatal("readMessage failed")
				}
			}
		})
	}
}
