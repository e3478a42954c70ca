package schema

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/clean"
	"github.com/mosaic-cdp/mosaic/store"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func event(typ, msg string, at time.Time) *mosaic.Event {
	return &mosaic.Event{SourceID: "src_web", Type: typ, ReceivedAt: at, Message: []byte(msg)}
}

func TestFieldsAdd(t *testing.T) {
	var f Fields
	f.Add(event("track", `{"type":"track","event":"Order Completed","properties":{"total":12,"currency":"EUR","coupon":null,
		"items":[{"sku":"a"}],"address":{"city":"Utrecht","geo":{"lat":52.1,"deep":{"x":1}}}}}`, t0))
	f.Add(event("track", `{"type":"track","event":"Order Completed","properties":{"total":12.5}}`, t0.Add(time.Hour)))
	f.Add(event("identify", `{"type":"identify","userId":"u1","traits":{"email":"a@b.nl","vip":true}}`, t0))
	f.Add(event("group", `{"type":"group","groupId":"g1","traits":{"employees":40}}`, t0))
	f.Add(event("page", `{"type":"page","name":"Home","properties":{"url":"/"}}`, t0))
	f.Add(&mosaic.Event{SourceID: mosaic.SystemSourceID, Type: "track", Message: []byte(`{"event":"split"}`)})
	type row struct {
		Kind, Event, Name string
		Types             []string
		Count             int64
	}
	got := map[string]row{}
	for _, r := range f.List() {
		got[r.Kind+" "+r.Event+" "+r.Name] = row{r.Kind, r.Event, r.Name, TypeNames(r.Types), r.Count}
	}
	p, tr, gt := store.SchemaProperty, store.SchemaTrait, store.SchemaGroupTrait
	want := map[string]row{
		"event Order Completed ":                    {store.SchemaEvent, "Order Completed", "", []string{}, 2},
		"property Order Completed total":            {p, "Order Completed", "total", []string{"integer", "number"}, 2},
		"property Order Completed currency":         {p, "Order Completed", "currency", []string{"string"}, 1},
		"property Order Completed coupon":           {p, "Order Completed", "coupon", []string{"null"}, 1},
		"property Order Completed items":            {p, "Order Completed", "items", []string{"array"}, 1},
		"property Order Completed address":          {p, "Order Completed", "address", []string{"object"}, 1},
		"property Order Completed address.city":     {p, "Order Completed", "address.city", []string{"string"}, 1},
		"property Order Completed address.geo":      {p, "Order Completed", "address.geo", []string{"object"}, 1},
		"property Order Completed address.geo.lat":  {p, "Order Completed", "address.geo.lat", []string{"number"}, 1},
		"property Order Completed address.geo.deep": {p, "Order Completed", "address.geo.deep", []string{"object"}, 1},
		"trait  email":                              {tr, "", "email", []string{"string"}, 1},
		"trait  vip":                                {tr, "", "vip", []string{"boolean"}, 1},
		"group_trait  employees":                    {gt, "", "employees", []string{"integer"}, 1},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Fields after Add (-want +got):\n%s", d)
	}
	for _, r := range f.List() {
		if r.Kind == store.SchemaEvent && (!r.FirstSeen.Equal(t0) || !r.LastSeen.Equal(t0.Add(time.Hour))) {
			t.Errorf("event seen %v..%v, want %v..%v", r.FirstSeen, r.LastSeen, t0, t0.Add(time.Hour))
		}
	}
}

// TestDraftAcceptsItsEvents drafts a plan from messy real-looking events
// and checks that the tracking plan, in block mode, accepts every one.
func TestDraftAcceptsItsEvents(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src := &mosaic.Source{ID: "src_web", Name: "web", WriteKey: "wk", CreatedAt: t0}
	if err := db.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	msgs := []struct{ typ, msg string }{
		{"track", `{"type":"track","event":"Order Completed","properties":{"order_id":"o1","revenue":12,"coupon":null,"address":{"city":"Utrecht"}}}`},
		{"track", `{"type":"track","event":"Order Completed","properties":{"order_id":"o2","revenue":7.5,"coupon":"X","address":"unknown"}}`},
		{"track", `{"type":"track","event":"Order Completed","properties":{"order_id":3,"revenue":1,"tags":["a"]}}`},
		{"track", `{"type":"track","event":"Signed Up"}`},
		{"identify", `{"type":"identify","userId":"u1","traits":{"email":"a@b.nl","age":40,"prefs":{"news":true}}}`},
		{"identify", `{"type":"identify","userId":"u2","traits":{"age":40.5}}`},
	}
	var f Fields
	for i, m := range msgs {
		f.Add(event(m.typ, m.msg, t0.Add(time.Duration(i)*time.Minute)))
	}
	f.Add(event("track", `{"type":"track","event":"Old Event","properties":{"x":1}}`, t0.Add(-30*24*time.Hour)))
	if err := db.SaveSchema(ctx, &store.SchemaCommit{Seq: 10, Fields: f.List()}); err != nil {
		t.Fatal(err)
	}
	plan, err := Draft(ctx, db, src.ID, t0.Add(-7*24*time.Hour))
	if err != nil {
		t.Fatalf("Draft() = %v", err)
	}
	if _, ok := plan.Events["Old Event"]; ok || len(plan.Events) != 2 {
		t.Errorf("Draft events = %v, want Order Completed and Signed Up only", keys(plan.Events))
	}
	var order struct{ Required []string }
	_ = json.Unmarshal(plan.Events["Order Completed"], &order)
	if d := cmp.Diff([]string{"order_id", "revenue"}, order.Required); d != "" {
		t.Errorf("required properties of Order Completed (-want +got):\n%s\nschema %s", d, plan.Events["Order Completed"])
	}

	plan.Mode = clean.ModeBlock
	viol := &clean.Violations{}
	c := clean.New(clean.Options{Settings: db, Violations: viol})
	if err := c.SetPlan(ctx, src.ID, plan); err != nil {
		t.Fatalf("SetPlan(draft) = %v", err)
	}
	for _, m := range msgs {
		if _, merr := c.Clean(src, m.typ, []byte(m.msg)); merr != nil {
			t.Errorf("the drafted plan refuses %s: %v", m.msg, merr)
		}
	}
	// And it is a plan: an event it never saw breaks it.
	if _, merr := c.Clean(src, "track", []byte(`{"type":"track","event":"Order Completed","properties":{"revenue":"x"}}`)); merr == nil {
		t.Error("the drafted plan accepts an Order Completed without order_id and with a text revenue")
	}
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// BenchmarkFieldsAdd measures what the stage spends per event on a typical
// order event (the store's save comes on top, once per half second).
func BenchmarkFieldsAdd(b *testing.B) {
	ev := event("track", `{"type":"track","event":"Order Completed","userId":"u1","properties":{"order_id":"o1","revenue":12.5,
		"currency":"EUR","products":[{"sku":"a"}],"address":{"city":"Utrecht","country":"NL"}},"context":{"ip":"1.2.3.4"}}`, t0)
	var f Fields
	for b.Loop() {
		f.Add(ev)
	}
}

// BenchmarkFieldsAddStored measures Add on a product view as the server
// stores the synthetic journeys' events: the most common track event.
func BenchmarkFieldsAddStored(b *testing.B) {
	ev := event("track", `{"type":"track","messageId":"ba87be48-ba5c-4835-b8bb-837b232bcd35","anonymousId":"0b1ba7e1-be39-4a2f-afa6-5032f3ba1c6d","event":"Product Viewed","properties":{"product_id":"P-10533","sku":"PB-10K","category":"Electronics","name":"Solar Power Bank 10,000 mAh","brand":"Lumen Works","price":49.90,"currency":"GBP"},"context":{"ip":"203.0.113.30","library":{"name":"analytics.js","version":"npm:next-1.70.0"},"locale":"en-GB","timezone":"Europe/London","userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36","page":{"path":"/p/solar-power-bank","referrer":"https://www.example.com/","title":"Solar Power Bank 10,000 mAh | Northpeak Outdoor","url":"https://www.example.com/p/solar-power-bank"}},"originalTimestamp":"2024-01-01T00:10:42.880Z","timestamp":"2026-11-23T06:24:06.432818327Z","sentAt":"2024-01-01T00:10:43.268Z","receivedAt":"2026-11-23T06:24:06.820818327Z"}`, t0)
	var f Fields
	b.ReportAllocs()
	for b.Loop() {
		f.Add(ev)
	}
}
