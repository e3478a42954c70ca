package synth

// visit is one session being planned: a person on one device, a few
// seconds to minutes between messages.
type visit struct {
	p    *person
	dev  int8
	d    *device
	t    int64
	camp int8 // the e-mail campaign the visit came from, or -1
	ok   bool // the budget allows more messages
	cart []uint8
}

// session plans session s at t: a landing page, account actions, browsing
// and perhaps an order. It returns the time of its last message.
func (p *person) session(s int, t int64) int64 {
	i := p.pickDevice()
	v := &visit{p: p, dev: int8(i), d: p.devices[i], t: t, camp: p.landing, ok: true}
	p.landing = -1
	if v.d.shared {
		// Family devices: whoever uses it logs in or browses anonymously;
		// no one stays logged in for the next person.
		v.d.loggedIn = false
		defer func() { v.d.loggedIn = false }()
	}
	landing := pageHome
	if p.rng.IntN(3) == 0 {
		landing = pageCategory
	}
	v.view(landing, p.rng.IntN(len(products)))
	v.account(s)
	v.browse()
	v.shop()
	return v.t
}

// next returns the next message of the visit, a few seconds on.
func (v *visit) next(act action) event {
	v.t += int64(3000 + v.p.rng.IntN(87_000))
	ev := blank(act, v.t, v.dev)
	ev.user = v.d.loggedIn
	if !ev.user && v.p.rng.Float64() < v.p.opts.JunkRate {
		ev.junkUser = int8(v.p.rng.IntN(len(junkUserIDs)))
	}
	return ev
}

// add plans ev if the budget allows.
func (v *visit) add(ev event) {
	if v.ok {
		v.ok = v.p.emit(ev)
	}
}

// view plans a page or screen view; prod is the product a product page shows.
func (v *visit) view(page, prod int) {
	ev := v.next(actPage)
	ev.page, ev.prods[0], ev.campaign = uint8(page), uint8(prod), v.camp
	v.add(ev)
}

// account plans what the person does with their account in session s.
func (v *visit) account(s int) {
	p := v.p
	switch {
	case p.signedUp && v.d.shared && p.rng.IntN(10) < 7:
		v.login()
	case p.signedUp && !v.d.shared && v.d.willLogin && !v.d.loggedIn:
		v.login()
	case !p.signedUp && p.signsUp && s >= p.signupAt:
		v.signup()
	}
	if p.newsAt >= 0 && s >= p.newsAt && !p.subscribed && !v.d.shared && !v.d.loggedIn {
		v.newsletter()
	}
	if !v.d.loggedIn {
		return
	}
	// Changes are due in their session, or now if the journey is about
	// to end: short journeys would otherwise never get to them.
	due := func(at int) bool { return at >= 0 && (s >= at || p.budget <= 8) }
	if due(p.changeAt) {
		v.changeEmail()
	}
	if due(p.upgradeAt) {
		p.upgradeAt = -1
		p.tier = min(p.tier+1, len(plans)-1)
		ev := v.next(actIdentifyPlan)
		ev.plan = uint8(p.tier)
		v.add(ev)
	}
	if len(p.phones) > 1 && p.rng.IntN(8) == 0 {
		ev := v.next(actIdentifyPhone)
		ev.phone, ev.pfmt = 1, p.pickFormat(1)
		v.add(ev)
	}
}

// signup plans a sign-up: the form, identify with every trait, Signed Up.
func (v *visit) signup() {
	p := v.p
	if !v.ok {
		return
	}
	v.view(pageSignup, 0)
	p.signedUp, v.d.loggedIn, p.espEmail = true, true, p.curEmail
	p.tier = 0
	if p.rng.IntN(4) == 0 {
		p.tier = 1 + p.rng.IntN(2)
	}
	ev := v.next(actIdentifySignup)
	ev.plan = uint8(p.tier)
	v.formEmail(&ev, p.curEmail)
	if len(p.phones) > 0 && p.rng.IntN(5) < 3 {
		v.formPhone(&ev, 0)
	}
	v.add(ev)
	v.add(v.next(actSignedUp))
}

// login plans a login: the form, identify, Signed In.
func (v *visit) login() {
	if !v.ok {
		return
	}
	v.view(pageLogin, 0)
	v.d.loggedIn = true
	ev := v.next(actIdentifyLogin)
	if v.p.rng.IntN(2) == 0 {
		ev.email = int8(v.p.curEmail)
	}
	v.add(ev)
	v.add(v.next(actSignedIn))
}

// newsletter plans an anonymous newsletter sign-up: identify with only an
// e-mail address, which links the device to it.
func (v *visit) newsletter() {
	p := v.p
	if !v.ok {
		return
	}
	ev := v.next(actIdentifyNews)
	i := 0
	if len(p.emails) > 1 && p.rng.IntN(10) < 3 {
		i = 1
	}
	v.formEmail(&ev, i)
	v.add(ev)
	v.add(v.next(actSubscribed))
	if ev.email >= 0 {
		p.subscribed = true
		if !p.signedUp {
			p.espEmail = i
			p.espID = newUUID(p.rng, false)
		}
	}
}

// changeEmail plans the account's change to a new address.
func (v *visit) changeEmail() {
	p := v.p
	p.changeAt = -1
	num := emailNumber(p.idx, 2, p.espace, p.salts.email)
	p.emails = append(p.emails, personalEmail(p.rng, p.first.Slug, p.last.Slug, num, pick(p.rng, p.c.Domains)))
	p.curEmail, p.espEmail = len(p.emails)-1, len(p.emails)-1
	ev := v.next(actIdentifyEmail)
	ev.email = int8(p.curEmail)
	if !v.ok {
		// The change happens even past the end of the budget, so that
		// EmailChangeRate is the share of account holders who change.
		p.budget, v.ok = 1, true
	}
	v.add(ev)
}

// formEmail puts address i on ev as typed into a form: junk at JunkRate.
func (v *visit) formEmail(ev *event, i int) {
	if v.p.rng.Float64() < v.p.opts.JunkRate {
		ev.junkEmail = int8(v.p.rng.IntN(len(junkEmails)))
		return
	}
	ev.email = int8(i)
}

// formPhone puts phone i on ev as typed into a form: junk at JunkRate.
func (v *visit) formPhone(ev *event, i int) {
	if v.p.rng.Float64() < v.p.opts.JunkRate {
		ev.junkPhone = int8(v.p.rng.IntN(len(junkPhones)))
		return
	}
	ev.phone, ev.pfmt = int8(i), v.p.pickFormat(i)
}

// pickFormat picks how phone i is written this time: people at home
// mostly write national numbers, others mostly international ones (see
// nationalSafe).
func (p *person) pickFormat(i int) int8 {
	fs := phoneFormats[p.phones[i].Region]
	national := nationalSafe(p.c.Code, p.region) && p.rng.IntN(100) < 65
	if p.c.Code != p.region {
		national = national && p.rng.IntN(2) == 0
	}
	for {
		f := p.rng.IntN(len(fs))
		if fs[f].National == national && fs[f].writable(p.c.Code, p.region) {
			return int8(f)
		}
	}
}

// browse plans a search and a few product views.
func (v *visit) browse() {
	p := v.p
	if p.rng.IntN(4) == 0 {
		v.view(pageSearch, 0)
		ev := v.next(actProductsSearched)
		ev.prods[0] = uint8(p.rng.IntN(len(searches)))
		v.add(ev)
	}
	for range 1 + p.rng.IntN(3) {
		prod := p.rng.IntN(len(products))
		v.view(pageProduct, prod)
		ev := v.next(actProductViewed)
		ev.prods[0] = uint8(prod)
		v.add(ev)
		if len(v.cart) < 3 && p.rng.IntN(100) < 30 {
			v.cart = append(v.cart, uint8(prod))
			ev := v.next(actProductAdded)
			ev.prods[0], ev.qty[0] = uint8(prod), uint8(1+p.rng.IntN(2))
			v.add(ev)
		}
	}
}

// shop plans the cart, checkout and order, for a visit that filled a cart.
func (v *visit) shop() {
	p := v.p
	if len(v.cart) == 0 || !v.ok {
		return
	}
	items := event{nprod: uint8(len(v.cart))}
	for i, prod := range v.cart {
		items.prods[i], items.qty[i] = prod, uint8(1+p.rng.IntN(2))
	}
	v.view(pageCart, 0)
	ev := v.next(actCartViewed)
	ev.nprod, ev.prods, ev.qty = items.nprod, items.prods, items.qty
	v.add(ev)
	if p.rng.IntN(100) >= 55 {
		return
	}
	p.orders++
	v.view(pageCheckout, 0)
	ev = v.next(actCheckoutStarted)
	ev.nprod, ev.prods, ev.qty, ev.order = items.nprod, items.prods, items.qty, uint32(p.orders)
	v.add(ev)
	if p.rng.IntN(100) >= 70 || (v.d.shared && !v.d.loggedIn) {
		return
	}
	ev = v.next(actOrderCompleted)
	ev.nprod, ev.prods, ev.qty, ev.order = items.nprod, items.prods, items.qty, uint32(p.orders)
	if !v.d.loggedIn {
		v.guestDetails(&ev)
	}
	v.add(ev)
}

// guestDetails puts the contact details of a guest checkout on ev.
func (v *visit) guestDetails(ev *event) {
	p := v.p
	i := p.curEmail
	if len(p.emails) > 1 && p.rng.IntN(4) == 0 {
		i = 1
	}
	v.formEmail(ev, i)
	if len(p.phones) > 0 && p.rng.IntN(10) < 7 {
		v.formPhone(ev, p.rng.IntN(len(p.phones)))
	}
}
