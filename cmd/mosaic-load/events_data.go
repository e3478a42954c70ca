package main

// The vocabulary the generator draws realistic events from: a small web shop
// seen through the browser SDK. Sizes of real Segment events come mostly
// from context (user agent, page) and properties, so those are full-length.

// userAgents are common desktop and mobile browsers.
var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.68",
	"Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
}

// product is one item of the shop's catalogue.
type product struct {
	ID, Name, Category, Slug string
	Price                    float64
}

var products = []product{
	{"P-10041", "Air Runner Trail Shoe", "Shoes", "air-runner-trail-shoe", 119.90},
	{"P-10077", "Organic Cotton T-Shirt", "Apparel", "organic-cotton-t-shirt", 24.50},
	{"P-10102", "Commuter Backpack 20L", "Bags", "commuter-backpack-20l", 89.00},
	{"P-10155", "Packable Rain Jacket", "Apparel", "packable-rain-jacket", 149.00},
	{"P-10203", "Insulated Steel Bottle 750 ml", "Accessories", "insulated-steel-bottle", 32.00},
	{"P-10288", "Merino Hiking Socks (3 pairs)", "Apparel", "merino-hiking-socks", 39.95},
	{"P-10310", "Ultralight Two-Person Tent", "Camping", "ultralight-two-person-tent", 429.00},
	{"P-10356", "Rechargeable Head Lamp 400 lm", "Camping", "rechargeable-head-lamp", 54.90},
	{"P-10391", "Touchscreen Running Gloves", "Accessories", "touchscreen-running-gloves", 27.00},
	{"P-10420", "Trail Cap", "Accessories", "trail-cap", 19.90},
	{"P-10466", "Down Sleeping Bag -5°C", "Camping", "down-sleeping-bag", 289.00},
	{"P-10512", "GPS Sport Watch 2", "Electronics", "gps-sport-watch-2", 249.00},
}

// pageKind is a kind of page on the shop's site.
type pageKind struct {
	Name, Path, Title string
}

var pages = []pageKind{
	{"Home", "/", "Outdoor gear for every trail | Example"},
	{"Category", "/c/camping", "Camping equipment | Example"},
	{"Category", "/c/apparel", "Outdoor clothing | Example"},
	{"Search", "/search", "Search results | Example"},
	{"Cart", "/cart", "Your cart | Example"},
	{"Checkout", "/checkout/shipping", "Checkout: shipping | Example"},
	{"Blog", "/journal/how-to-choose-a-tent", "How to choose a tent | Example Journal"},
	{"Account", "/account/orders", "Your orders | Example"},
}

// trackEvents are the track calls of the e-commerce spec, by weight.
var trackEvents = []string{
	"Product Viewed", "Product Viewed", "Product Viewed", "Product Clicked",
	"Product Added", "Product Added", "Cart Viewed", "Checkout Started",
	"Order Completed", "Products Searched", "Coupon Applied", "Product Added to Wishlist",
}

var referrers = []string{
	"https://www.google.com/",
	"https://www.bing.com/",
	"https://duckduckgo.com/",
	"https://news.example.org/outdoor/best-gear-2024",
	"https://example.com/",
	"",
}

// locales pairs a locale with a time zone and currency that go together.
var locales = []struct{ Locale, Timezone, Currency string }{
	{"en-US", "America/New_York", "USD"},
	{"en-US", "America/Los_Angeles", "USD"},
	{"en-GB", "Europe/London", "GBP"},
	{"de-DE", "Europe/Berlin", "EUR"},
	{"fr-FR", "Europe/Paris", "EUR"},
	{"nl-NL", "Europe/Amsterdam", "EUR"},
	{"es-ES", "Europe/Madrid", "EUR"},
	{"en-AU", "Australia/Sydney", "AUD"},
}

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger", "Radia"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Dijkstra", "Perlman"}
	plans      = []string{"free", "free", "free", "plus", "pro"}
	campaigns  = []struct{ Name, Source, Medium string }{
		{"summer_sale", "newsletter", "email"},
		{"trail_season", "google", "cpc"},
		{"brand", "instagram", "social"},
	}
)

// libraries are the SDKs that send to the Tracking API.
var libraries = []struct{ Name, Version string }{
	{"analytics.js", "npm:next-1.70.0"},
	{"analytics-go", "3.3.0"},
	{"analytics-node", "2.1.2"},
}
