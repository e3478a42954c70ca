package clean

import "testing"

// BenchmarkMessage cleans the collect benchmark's browser event (a track
// call with properties, a user agent and context.traits; nothing to
// change), without the Tracking API around it.
func BenchmarkMessage(b *testing.B) {
	msg := []byte(`{"type":"track","messageId":"ajs-next-1714564800000-00000001","anonymousId":"4b8e0c2a-7a7e-4d2a-9f0e-1f2e3d4c5b6a","userId":"user-1",` +
		`"event":"Product Viewed","properties":{"product_id":"p-1","sku":"SKU-1234","category":"Shoes","name":"Trail Runner","brand":"Acme","price":89.99,"currency":"EUR","position":3},` +
		`"context":{"ip":"192.0.2.1","userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",` +
		`"page":{"path":"/shoes/trail-runner","referrer":"https://www.google.com/","search":"","title":"Trail Runner | Acme","url":"https://shop.example/shoes/trail-runner"},` +
		`"library":{"name":"analytics.js","version":"next-1.84.3"},"locale":"en-US","traits":{"email":"ada@example.com","plan":"pro"}},"integrations":{},` +
		`"originalTimestamp":"2024-05-01T11:59:58.000Z","timestamp":"2024-05-01T11:59:58.000Z","sentAt":"2024-05-01T12:00:00.000Z","receivedAt":"2024-05-01T12:00:00.000Z"}`)
	vc := valueCleaner{phones: &Phones{}, region: "NL", disabled: map[string]bool{}}
	b.ReportAllocs()
	for b.Loop() {
		if out := vc.message(msg); len(out) != len(msg) {
			b.Fatalf("message changed: %s", out)
		}
	}
}
