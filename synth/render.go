package synth

import (
	"math/rand/v2"
	"strconv"
)

// renderer writes planned events as Segment messages. Its random source
// is reseeded from each event's seed, so a message's bytes depend only on
// the event, not on what was rendered before it.
type renderer struct {
	pcg rand.PCG
	rng *rand.Rand
	ref string // the referrer of the message being rendered
}

func newRenderer() *renderer {
	r := &renderer{}
	r.rng = rand.New(&r.pcg)
	return r
}

// site is the shop's web address.
const site = "https://www.example.com"

// messageType returns the Segment call type of ev.
func (p *person) messageType(ev *event) string {
	switch {
	case ev.act == actPage && ev.dev >= 0 && p.devices[ev.dev].app:
		return "screen"
	case ev.act == actPage:
		return "page"
	case ev.act >= actIdentifySignup && ev.act <= actIdentifyPhone:
		return "identify"
	}
	return "track"
}

// render appends ev as one JSON message and returns its type.
func (r *renderer) render(b []byte, p *person, ev *event) ([]byte, string) {
	r.pcg.Seed(ev.seed, uint64(p.idx))
	r.ref = r.referrer(ev)
	ids := p.ids(ev)
	var skew int64
	if ids.dev != nil {
		skew = ids.dev.skewMS
	}
	typ := p.messageType(ev)
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","messageId":"`...)
	b = appendUUID(b, r.rng, false)
	b = append(b, '"')
	b = timestamp(b, "timestamp", ev.ts+skew)
	b = timestamp(b, "sentAt", ev.arrival+skew)
	switch {
	case ids.userID != "":
		b = str(b, "userId", ids.userID)
	case ev.junkUser >= 0:
		b = str(b, "userId", junkUserIDs[ev.junkUser])
	}
	if ids.anonID != "" {
		b = str(b, "anonymousId", ids.anonID)
	}
	switch typ {
	case "identify":
		b = r.traits(b, p, ev)
	case "page", "screen":
		b = r.pageBody(b, p, ev, typ == "screen")
	default:
		b = str(b, "event", trackNames[ev.act])
		b = r.properties(b, p, ev)
	}
	b = r.context(b, p, ev, ids.dev)
	return append(b, '}'), typ
}

// trackNames are the events of track calls, from the Segment spec.
var trackNames = [...]string{
	actProductViewed: "Product Viewed", actProductsSearched: "Products Searched",
	actProductAdded: "Product Added", actCartViewed: "Cart Viewed",
	actCheckoutStarted: "Checkout Started", actOrderCompleted: "Order Completed",
	actSignedUp: "Signed Up", actSignedIn: "Signed In", actSubscribed: "Newsletter Subscribed",
	actEmailOpened: "Email Opened", actEmailClicked: "Email Link Clicked",
}

// contact appends the e-mail address and phone number ev carries, as
// typed: into traits for identify, context.traits otherwise.
func (r *renderer) contact(b []byte, p *person, ev *event) []byte {
	switch {
	case ev.email >= 0:
		b = str(b, "email", writtenEmail(r.rng, p.emails[ev.email]))
	case ev.junkEmail >= 0:
		b = str(b, "email", junkEmails[ev.junkEmail])
	}
	switch {
	case ev.phone >= 0:
		b = str(b, "phone", p.phoneFormat(ev).Write(p.phones[ev.phone]))
	case ev.junkPhone >= 0:
		b = str(b, "phone", junkPhones[ev.junkPhone])
	}
	return b
}

// hasContact reports whether ev carries an address or a number.
func hasContact(ev *event) bool {
	return ev.email >= 0 || ev.junkEmail >= 0 || ev.phone >= 0 || ev.junkPhone >= 0
}

// traits appends an identify call's traits.
func (r *renderer) traits(b []byte, p *person, ev *event) []byte {
	b = open(b, "traits")
	b = r.contact(b, p, ev)
	switch ev.act {
	case actIdentifySignup:
		b = str(b, "firstName", p.first.Display)
		b = str(b, "lastName", p.last.Display)
		b = str(b, "name", p.first.Display+" "+p.last.Display)
		b = str(b, "birthday", p.birthday)
		b = str(b, "plan", plans[ev.plan])
		b = str(b, "country", p.c.Code)
		b = open(b, "address")
		b = str(b, "city", p.c.Cities[mix(uint64(p.idx))%uint64(len(p.c.Cities))])
		b = str(b, "country", p.c.Code)
		b = append(b, '}')
		b = timestamp(b, "createdAt", ev.ts)
	case actIdentifyNews:
		b = boolean(b, "newsletter", true)
	case actIdentifyPlan:
		b = str(b, "plan", plans[ev.plan])
	}
	return append(b, '}')
}

// pageBody appends a page or screen call's name and properties.
func (r *renderer) pageBody(b []byte, p *person, ev *event, screen bool) []byte {
	if screen {
		b = str(b, "name", screenNames[ev.page])
		b = open(b, "properties")
		if ev.page == pageProduct {
			b = str(b, "product_id", products[ev.prods[0]].ID)
		}
		return append(b, '}')
	}
	path, title := pagePath(ev), pageTitle(ev)
	b = str(b, "name", pageNames[ev.page])
	b = open(b, "properties")
	b = str(b, "path", path)
	b = str(b, "referrer", r.ref)
	b = str(b, "title", title)
	b = str(b, "url", site+path)
	if ev.page == pageCategory {
		b = str(b, "category", categoryOf(ev).Name)
	}
	return append(b, '}')
}

// referrer is where a page view came from: a search engine or nothing for
// landing pages, the shop itself otherwise.
func (r *renderer) referrer(ev *event) string {
	switch {
	case ev.act != actPage:
		return site + "/"
	case ev.campaign >= 0:
		return ""
	case ev.page == pageHome || ev.page == pageCategory:
		return pick(r.rng, referrers)
	}
	return site + "/"
}

// pagePath returns the path of the page ev happened on.
func pagePath(ev *event) string {
	switch pageOf(ev) {
	case pageCategory:
		return "/c/" + categoryOf(ev).Slug
	case pageProduct:
		return "/p/" + products[ev.prods[0]].Slug
	case pageSearch:
		return "/search"
	case pageCart:
		return "/cart"
	case pageCheckout:
		return "/checkout"
	case pageSignup:
		return "/account/signup"
	case pageLogin:
		return "/account/login"
	case pageAccount:
		return "/account"
	case pageJournal:
		return "/journal"
	}
	return "/"
}

// pageTitle returns the title of the page ev happened on.
func pageTitle(ev *event) string {
	switch pg := pageOf(ev); pg {
	case pageProduct:
		return products[ev.prods[0]].Name + " | Northpeak Outdoor"
	case pageCategory:
		return categoryOf(ev).Name + " | Northpeak Outdoor"
	default:
		return pageNames[pg] + " | Northpeak Outdoor"
	}
}

// categoryOf returns the category a category page view shows.
func categoryOf(ev *event) struct{ Name, Slug string } {
	return categories[int(ev.prods[0])%len(categories)]
}

// pageOf returns the page a message was sent from.
func pageOf(ev *event) int {
	switch ev.act {
	case actPage:
		return int(ev.page)
	case actProductViewed, actProductAdded:
		return pageProduct
	case actProductsSearched:
		return pageSearch
	case actCartViewed:
		return pageCart
	case actCheckoutStarted, actOrderCompleted:
		return pageCheckout
	case actSignedUp, actIdentifySignup:
		return pageSignup
	case actSignedIn, actIdentifyLogin:
		return pageLogin
	case actIdentifyEmail, actIdentifyPlan, actIdentifyPhone:
		return pageAccount
	}
	return pageHome
}

// orderID returns the id of the person's n-th order.
func orderID(p *person, n uint32) string {
	k := uint64(p.idx)*64 + uint64(n%64)
	return "ORD-" + pad(scramble(k, 10_000_000_000, p.salts.user), 10)
}

// methods of signing up and in.
var methods = []string{"email", "email", "google", "apple"}

// properties appends a track call's properties.
func (r *renderer) properties(b []byte, p *person, ev *event) []byte {
	b = open(b, "properties")
	switch ev.act {
	case actProductViewed:
		b = productProps(b, products[ev.prods[0]], p.c.Currency)
	case actProductAdded:
		b = productProps(b, products[ev.prods[0]], p.c.Currency)
		b = integer(b, "quantity", int64(ev.qty[0]))
	case actProductsSearched:
		b = str(b, "query", searches[int(ev.prods[0])%len(searches)])
	case actCartViewed:
		b = r.items(b, ev)
	case actCheckoutStarted, actOrderCompleted:
		b = r.order(b, p, ev)
	case actSignedUp, actSignedIn:
		b = str(b, "method", pick(r.rng, methods))
	case actSubscribed:
		b = str(b, "list", "weekly")
		b = str(b, "source", "footer")
	case actEmailOpened, actEmailClicked:
		b = mailProps(b, p, ev)
	}
	return append(b, '}')
}

// productProps appends the Segment spec's product properties.
func productProps(b []byte, pr product, currency string) []byte {
	b = str(b, "product_id", pr.ID)
	b = str(b, "sku", pr.SKU)
	b = str(b, "category", pr.Category)
	b = str(b, "name", pr.Name)
	b = str(b, "brand", pr.Brand)
	b = money(b, "price", pr.Cents)
	return str(b, "currency", currency)
}

// items appends the products of a cart or order.
func (r *renderer) items(b []byte, ev *event) []byte {
	b = append(field(b, "products"), '[')
	for i := range int(ev.nprod) {
		if i > 0 {
			b = append(b, ',')
		}
		pr := products[ev.prods[i]]
		b = append(b, '{')
		b = str(b, "product_id", pr.ID)
		b = str(b, "sku", pr.SKU)
		b = str(b, "category", pr.Category)
		b = str(b, "name", pr.Name)
		b = money(b, "price", pr.Cents)
		b = integer(b, "quantity", int64(ev.qty[i]))
		b = integer(b, "position", int64(i+1))
		b = append(b, '}')
	}
	return append(b, ']')
}

// vatRates are the VAT percentages included in prices, by country.
var vatRates = map[string]int{"NL": 21, "BE": 21, "DE": 19, "GB": 20, "US": 0}

// order appends the properties of Checkout Started or Order Completed.
// revenue excludes tax and shipping, as the Segment spec has it.
func (r *renderer) order(b []byte, p *person, ev *event) []byte {
	sub := 0
	for i := range int(ev.nprod) {
		sub += products[ev.prods[i]].Cents * int(ev.qty[i])
	}
	shipping := 0
	if sub < 5000 {
		shipping = 495
	}
	tax := sub * vatRates[p.c.Code] / (100 + vatRates[p.c.Code])
	b = str(b, "order_id", orderID(p, ev.order))
	if ev.act == actOrderCompleted {
		b = str(b, "affiliation", affiliation(p, ev))
		b = money(b, "subtotal", sub)
		b = money(b, "total", sub+shipping)
		b = money(b, "shipping", shipping)
		b = money(b, "tax", tax)
	} else {
		b = money(b, "value", sub)
	}
	b = money(b, "revenue", sub-tax)
	b = str(b, "currency", p.c.Currency)
	return r.items(b, ev)
}

func affiliation(p *person, ev *event) string {
	if ev.dev >= 0 && p.devices[ev.dev].app {
		return "Northpeak app"
	}
	return "Northpeak web shop"
}

// mailProps appends the properties of an e-mail engagement event.
func mailProps(b []byte, p *person, ev *event) []byte {
	c := campaigns[ev.campaign]
	b = str(b, "channel", "email")
	b = str(b, "campaign_id", c.ID)
	b = str(b, "campaign_name", c.Name)
	b = str(b, "email_id", c.ID+"-"+strconv.Itoa(p.idx))
	b = str(b, "email_subject", c.Subject)
	if ev.act == actEmailClicked {
		b = str(b, "link_url", site+"/?utm_source=newsletter&utm_medium=email&utm_campaign="+c.Name)
	}
	return b
}
