package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The three message shapes the generator sends, as the browser SDK and the
// server SDKs produce them. Values that must differ per event are
// placeholders (see events.go).

// pick returns a random element of s.
func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// baseMessage returns the fields every call has, with context.
func baseMessage(rng *rand.Rand, kind string, page pageKind, userID bool) map[string]any {
	m := map[string]any{
		"type":        kind,
		"messageId":   "@@MID@@",
		"anonymousId": "@@ANON@@",
		"timestamp":   "@@TS@@",
		"context":     browserContext(rng, page),
	}
	if userID {
		m["userId"] = fmt.Sprintf("user_%05d", rng.IntN(20000))
	}
	return m
}

// browserContext is what analytics.js attaches to every call.
func browserContext(rng *rand.Rand, page pageKind) map[string]any {
	loc, lib := pick(rng, locales), pick(rng, libraries)
	ctx := map[string]any{
		"ip":        fmt.Sprintf("203.0.113.%d", rng.IntN(254)+1),
		"library":   map[string]any{"name": lib.Name, "version": lib.Version},
		"locale":    loc.Locale,
		"timezone":  loc.Timezone,
		"userAgent": pick(rng, userAgents),
		"page":      pageContext(rng, page),
	}
	if rng.IntN(6) == 0 {
		c := pick(rng, campaigns)
		ctx["campaign"] = map[string]any{"name": c.Name, "source": c.Source, "medium": c.Medium}
	}
	return ctx
}

func pageContext(rng *rand.Rand, page pageKind) map[string]any {
	pc := map[string]any{
		"path":     page.Path,
		"referrer": pick(rng, referrers),
		"title":    page.Title,
		"url":      "https://example.com" + page.Path,
	}
	if page.Name == "Search" {
		pc["search"] = "?q=" + strings.ToLower(pick(rng, products).Category)
		pc["url"] = pc["url"].(string) + pc["search"].(string)
	}
	return pc
}

// trackMessage is an e-commerce track call about a product.
func trackMessage(rng *rand.Rand) map[string]any {
	p := pick(rng, products)
	page := pageKind{"Product", "/p/" + p.Slug, p.Name + " | Example"}
	m := baseMessage(rng, "track", page, rng.IntN(5) < 2)
	m["event"] = pick(rng, trackEvents)
	qty := rng.IntN(3) + 1
	props := map[string]any{
		"product_id": p.ID,
		"category":   p.Category,
		"price":      p.Price,
		"currency":   currencyOf(m),
	}
	switch m["event"] {
	case "Product Added":
		props["quantity"] = qty
	case "Order Completed":
		props["order_id"] = fmt.Sprintf("ORD-%07d", rng.IntN(10_000_000))
		props["revenue"] = float64(qty) * p.Price
	}
	m["properties"] = props
	return m
}

// currencyOf returns the currency that goes with the message's locale.
func currencyOf(m map[string]any) string {
	tz := m["context"].(map[string]any)["timezone"]
	for _, l := range locales {
		if l.Timezone == tz {
			return l.Currency
		}
	}
	return "USD"
}

// pageMessage is a page view.
func pageMessage(rng *rand.Rand) map[string]any {
	page := pick(rng, pages)
	m := baseMessage(rng, "page", page, rng.IntN(5) < 2)
	pc := m["context"].(map[string]any)["page"].(map[string]any)
	m["name"] = page.Name
	m["properties"] = map[string]any{"path": pc["path"], "title": pc["title"], "url": pc["url"]}
	return m
}

// identifyMessage is a sign-up or login with the user's traits.
func identifyMessage(rng *rand.Rand) map[string]any {
	m := baseMessage(rng, "identify", pick(rng, pages), true)
	first, last := pick(rng, firstNames), pick(rng, lastNames)
	loc := pick(rng, locales)
	m["traits"] = map[string]any{
		"email":     fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(first), strings.ToLower(last), rng.IntN(1000)),
		"firstName": first,
		"lastName":  last,
		"plan":      pick(rng, plans),
		"createdAt": fmt.Sprintf("2024-%02d-%02dT10:%02d:00.000Z", rng.IntN(12)+1, rng.IntN(28)+1, rng.IntN(60)),
		"address":   map[string]any{"country": loc.Locale[3:], "city": cityOf(loc.Timezone)},
	}
	return m
}

// cityOf returns the city a tzdata name is named after.
func cityOf(tz string) string {
	_, city, _ := strings.Cut(tz, "/")
	return strings.ReplaceAll(city, "_", " ")
}
