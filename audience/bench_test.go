package audience

import (
	"fmt"
	"testing"
	"time"
)

var benchNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// benchSubject is a profile of a typical size: twenty traits, a few
// computed traits, and forty events of which five are orders this month.
func benchSubject() *memSubject {
	s := &memSubject{
		traits: map[string]Value{
			"country": String("NL"), "email": String("anna@example.com"), "plan": String("pro"),
			"age": Number(41), "birthday": String("1985-03-14"), "signed_up_at": String("2023-06-20T14:00:00Z"),
			"latitude": Number(52.387), "longitude": Number(4.646), "tags": List(String("beta"), String("vip")),
		},
		computed:  map[string]Value{"lifetime_value": Number(1250.5), "orders_30d": Number(5)},
		consent:   map[string]bool{"marketing": true, "analytics": true},
		audiences: map[string]bool{"newsletter": true},
	}
	for i := range 11 {
		s.traits[fmt.Sprintf("extra_%d", i)] = String("x")
	}
	for i := range 35 {
		s.addEvent("Page Viewed", benchNow.Add(-time.Duration(i)*7*time.Hour), `{"path": "/shoes", "category": "shoes"}`)
	}
	for i := range 5 {
		s.addEvent("Order Completed", benchNow.Add(-time.Duration(i)*5*24*time.Hour), fmt.Sprintf(`{"revenue": %d, "currency": "EUR", "products": [{"sku": "a"}]}`, 20+i*15))
	}
	return s
}

// BenchmarkEvaluate measures one evaluation of a 10-node condition, the
// unit of the real-time budget (50 dependent audiences per event at
// 100,000 events/s on two cores leaves about 400 ns per evaluation, 100 ns
// to stay comfortable), and of typical leaves alone.
func BenchmarkEvaluate(b *testing.B) {
	conditions := []struct{ name, src string }{
		// and, trait, trait, or, consent, computed, count, where property, not, audience: 10 nodes.
		{"10 nodes", `trait country = "NL" and trait age >= 18 and (consent marketing or computed lifetime_value > 1000) and count(event "Order Completed" where revenue > 10 within 30d) >= 2 and not in audience vip`},
		{"10 nodes no events", `trait country = "NL" and trait age >= 18 and (consent marketing or computed lifetime_value > 1000) and trait plan in ["pro", "team"] and not in audience vip`},
		{"trait equal", `trait country = "NL"`},
		{"trait date", `trait signed_up_at >= "2023-01-01"`},
		{"count 30d", `count(event "Order Completed" within 30d) >= 2`},
		{"count where 30d", `count(event "Order Completed" where revenue > 30 and currency = "EUR" within 30d) >= 2`},
		{"sum 365d", `sum(revenue of event "Order Completed" within 365d) > 100`},
		{"count 35 page views", `count(event "Page Viewed" where category = "shoes" within 7d) >= 3`},
		{"birthday", `birthday within 7d`},
		{"near", `near(52.37, 4.9) within 25km`},
		{"expr", "expr `traits.plan == \"pro\" && computed.lifetime_value > 1000.0`"},
	}
	s := benchSubject()
	// Most profiles are in few audiences: this one fails the first trait,
	// and the evaluation ends before reading any event.
	other := benchSubject()
	other.traits["country"] = String("BE")
	ten, err := Parse(conditions[0].src)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("10 nodes not matching", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Evaluate(ten, other, benchNow)
		}
	})
	for _, bc := range conditions {
		c, err := Parse(bc.src)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Evaluate(c, s, benchNow)
			}
		})
	}
}

// BenchmarkExplain measures an explanation, which evaluates every node.
func BenchmarkExplain(b *testing.B) {
	c, err := Parse(`trait country = "NL" and count(event "Order Completed" where revenue > 10 within 30d) >= 2 and consent marketing and not in audience "vip"`)
	if err != nil {
		b.Fatal(err)
	}
	s := benchSubject()
	b.ReportAllocs()
	for b.Loop() {
		Explain(c, s, benchNow)
	}
}

// BenchmarkParse measures reading the text form.
func BenchmarkParse(b *testing.B) {
	src := `trait country = "NL" and count(event "Order Completed" where revenue > 10 within 30d) >= 2 and consent marketing and not in audience "vip"`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode measures reading the JSON form.
func BenchmarkDecode(b *testing.B) {
	c, _ := Parse(`trait country = "NL" and count(event "Order Completed" where revenue > 10 within 30d) >= 2 and consent marketing and not in audience "vip"`)
	data, _ := c.MarshalJSON()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
