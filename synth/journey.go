package synth

import (
	"cmp"
	"math"
	"slices"
)

// action is what a message records.
type action uint8

const (
	actPage             action = iota // a page view (web) or screen view (app)
	actProductViewed                  // track Product Viewed
	actProductsSearched               // track Products Searched
	actProductAdded                   // track Product Added
	actCartViewed                     // track Cart Viewed
	actCheckoutStarted                // track Checkout Started
	actOrderCompleted                 // track Order Completed
	actSignedUp                       // track Signed Up
	actSignedIn                       // track Signed In
	actSubscribed                     // track Newsletter Subscribed
	actIdentifySignup                 // identify with every trait
	actIdentifyLogin                  // identify on login
	actIdentifyNews                   // identify without a user id: the newsletter form
	actIdentifyEmail                  // identify with a changed e-mail address
	actIdentifyPlan                   // identify with an upgraded plan
	actIdentifyPhone                  // identify with a phone number added in the account
	actEmailOpened                    // track Email Opened, from the mail tool
	actEmailClicked                   // track Email Link Clicked, from the mail tool
)

// event is one planned message. Everything random about it that matters
// is decided here; the rest (messageId, spelling of an address) comes
// from seed when it is rendered.
type event struct {
	ts, arrival int64 // Unix milliseconds: when it happened, when it arrives
	seed        uint64
	order       uint32 // order number, for checkout and order events
	act         action
	dev         int8 // index in devices; -1 for the mail tool
	user        bool // carries the user id
	email       int8 // index in emails, or -1
	phone       int8 // index in phones, or -1
	pfmt        int8 // index in the phone's formats
	junkUser    int8 // index in junkUserIDs written as userId, or -1
	junkEmail   int8 // index in junkEmails written as the e-mail, or -1
	junkPhone   int8 // index in junkPhones written as the phone, or -1
	page        uint8
	campaign    int8 // index in campaigns, or -1
	plan        uint8
	nprod       uint8
	prods       [3]uint8
	qty         [3]uint8
}

// phoneFormat returns how ev writes its phone number.
func (p *person) phoneFormat(ev *event) phoneFormat {
	return phoneFormats[p.phones[ev.phone].Region][ev.pfmt]
}

// plan plans the person's journey: sessions from t0 until the message
// budget is spent, no later than end, then sorts the messages by arrival.
func (p *person) plan(t0, end int64) {
	p.planLifecycle()
	sessions := max(1, p.budget/5)
	// Journeys last from an afternoon to the whole period, most a few
	// days; sessions fall at random times within it.
	span := float64(end - t0)
	span = min(span, p.rng.ExpFloat64()*span/2+float64(sessions)*3600_000)
	times := make([]int64, sessions)
	for i := 1; i < sessions; i++ {
		times[i] = int64(p.rng.Float64() * span)
	}
	slices.Sort(times)
	prev := t0
	for s := 0; p.budget > 0; s++ {
		t := prev + 3600_000 + int64(p.rng.ExpFloat64()*12*3600_000)
		if s < sessions {
			t = max(t0+times[s], prev+60_000)
		}
		t = min(t, end-60_000)
		t = p.mail(prev, t, s)
		prev = p.session(s, t)
	}
	slices.SortStableFunc(p.events, func(a, b event) int { return cmp.Compare(a.arrival, b.arrival) })
}

// planLifecycle decides in which sessions the person signs up,
// subscribes to the newsletter, changes address and upgrades.
func (p *person) planLifecycle() {
	expect := max(1, p.budget/5)
	p.signsUp = p.partner >= 0 || p.rng.Float64() < 0.6
	if p.signsUp {
		p.signupAt = 0
		if p.rng.Float64() > 0.35 {
			p.signupAt = 1 + p.rng.IntN(max(1, expect/2))
		}
	}
	if p.rng.Float64() < 0.2 {
		p.newsAt = p.rng.IntN(expect)
	}
	if p.signsUp && p.rng.Float64() < p.opts.EmailChangeRate {
		p.changeAt = p.signupAt + 1 + p.rng.IntN(expect)
	}
	if p.signsUp && p.rng.Float64() < 0.15 {
		p.upgradeAt = p.signupAt + 1 + p.rng.IntN(expect)
	}
}

// pickDevice picks the device of a session by weight.
func (p *person) pickDevice() int {
	total := 0
	for _, d := range p.devices {
		total += d.weight
	}
	r := p.rng.IntN(total)
	for i, d := range p.devices {
		if r -= d.weight; r < 0 {
			return i
		}
	}
	return 0
}

// emit plans one message at ts and reports whether the budget allows
// more. Its arrival is ts plus a delivery delay, or for a late message,
// one hour to three days.
func (p *person) emit(ev event) bool {
	if p.budget <= 0 {
		return false
	}
	p.budget--
	ev.seed = p.rng.Uint64()
	var delay float64
	switch {
	case p.rng.Float64() < p.opts.LateRate:
		delay = 3600_000 + p.rng.Float64()*71*3600_000
	case ev.dev < 0:
		delay = 100 + p.rng.Float64()*4900 // server to server
	case p.devices[ev.dev].app:
		delay = 200 + p.rng.Float64()*29_800 // apps flush every 30 s
	default:
		delay = 30 + math.Abs(p.rng.NormFloat64())*400
	}
	ev.arrival = ev.ts + int64(delay)
	p.events = append(p.events, ev)
	return p.budget > 0
}

// blank returns an event of act at ts with nothing else set.
func blank(act action, ts int64, dev int8) event {
	return event{ts: ts, act: act, dev: dev, email: -1, phone: -1, pfmt: -1, junkUser: -1,
		junkEmail: -1, junkPhone: -1, campaign: -1}
}

// mail plans the mail tool's messages before the session at t: a
// campaign opened and perhaps clicked, if the tool knows the person. It
// returns the session's start, which a click moves to just after it.
func (p *person) mail(prev, t int64, s int) int64 {
	if s == 0 || p.espEmail < 0 || p.rng.Float64() > 0.35 || t-prev < 10*60_000 {
		return t
	}
	camp := int8(p.rng.IntN(len(campaigns)))
	opened := prev + int64(float64(t-prev)*(0.5+p.rng.Float64()/2)) - 5*60_000
	ev := p.mailEvent(actEmailOpened, opened, camp)
	if !p.emit(ev) || p.rng.Float64() > 0.4 {
		return t
	}
	ev = p.mailEvent(actEmailClicked, opened+int64(10_000+p.rng.IntN(110_000)), camp)
	p.emit(ev)
	p.landing = camp
	return ev.ts + 3000
}

// mailEvent is a message of the mail tool: with the user id once the
// person has an account, else with the tool's subscriber id.
func (p *person) mailEvent(act action, ts int64, camp int8) event {
	ev := blank(act, ts, -1)
	ev.user, ev.email, ev.campaign = p.signedUp, int8(p.espEmail), camp
	return ev
}
