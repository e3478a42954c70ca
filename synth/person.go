package synth

import (
	"math"
	"math/rand/v2"
)

// devKind is the kind of device a person uses.
type devKind uint8

const (
	devDesktop   devKind = iota // a browser on a computer
	devMobileWeb                // a phone's browser
	devTablet                   // a tablet's browser (family devices)
	devIOS                      // the iPhone app
	devAndroid                  // the Android app
)

// device is one browser or app installation: one anonymousId, and for
// apps a device id and an advertising id.
type device struct {
	kind       devKind
	app        bool
	anonID     string
	deviceID   string // apps only
	adID       string // apps only; zeroUUID when ad tracking is off
	adTracking bool
	shared     bool // a family device two people log in on
	willLogin  bool // the owner logs in on it once they have an account
	loggedIn   bool // messages carry the user id (for shared devices: this session)
	agent      string
	model      *appModel
	ip         string
	skewMS     int64 // the device clock's error
	weight     int   // how often sessions happen on it
}

// person is one person being planned: who they are, their devices, and
// the messages of their journey.
type person struct {
	idx      int
	rng      *rand.Rand
	opts     *Options
	region   string
	c        *country
	first    name
	last     name
	userID   string
	emails   []string // as stored: [0] the main one; more from changes
	phones   []phone
	devices  []*device
	birthday string
	tier     int // index in plans
	partner  int
	espID    string // the mail tool's id for a subscriber without an account
	salts    salts
	espace   uint64 // see emailSpace

	start      int64 // Unix milliseconds of the first session
	budget     int   // messages left to plan
	signsUp    bool
	signupAt   int // session of sign-up, if signsUp
	newsAt     int // session of the newsletter sign-up, or -1
	changeAt   int // first session the e-mail change may happen, or -1
	upgradeAt  int // first session the plan upgrade may happen, or -1
	signedUp   bool
	subscribed bool
	curEmail   int // index in emails of the account's address
	espEmail   int // index in emails the mail tool writes to, or -1
	orders     int
	landing    int8 // campaign whose link starts the next session, or -1
	events     []event
}

// salts keep the unique-value spaces of one seed apart from another's.
type salts struct{ user, email, phone, land uint64 }

func newSalts(seed int64) salts {
	s := uint64(seed)
	return salts{mix(s ^ 1), mix(s ^ 2), mix(s ^ 3), mix(s ^ 4)}
}

// newPerson makes person idx: who they are and what they own. Their
// journey is planned by plan.
func newPerson(idx int, o *Options, sl salts, espace uint64) *person {
	// Each person draws from a source of their own, so a person does not
	// change when others do (or when the window does).
	s, i := uint64(o.Seed), mix(uint64(idx))
	rng := rand.New(rand.NewPCG(mix(s^i), mix(s+i)))
	p := &person{idx: idx, rng: rng, opts: o, region: o.Region, salts: sl, espace: espace, partner: -1, newsAt: -1,
		changeAt: -1, upgradeAt: -1, espEmail: -1, landing: -1}
	p.c = pickCountry(rng, o.Region)
	p.first, p.last = pick(rng, p.c.First), pick(rng, p.c.Last)
	p.userID = userID(idx, sl.user)
	p.emails = []string{personalEmail(rng, p.first.Slug, p.last.Slug, emailNumber(idx, 0, espace, sl.email), pick(rng, p.c.Domains))}
	if rng.Float64() < 0.35 {
		p.emails = append(p.emails, p.secondEmail(espace, sl.email))
	}
	p.phones = p.newPhones(sl)
	p.birthday = birthday(rng)
	p.budget = journeyLength(rng, o.EventsPerPerson)
	p.addDevices()
	return p
}

// pickCountry returns a country: the home region for two in three
// people, the others spread over the rest.
func pickCountry(rng *rand.Rand, region string) *country {
	if rng.IntN(3) < 2 {
		return countryOf(region)
	}
	for {
		if c := pick(rng, countries); c.Code != region {
			return c
		}
	}
}

// secondEmail is a work address or one at another provider.
func (p *person) secondEmail(space, salt uint64) string {
	num := emailNumber(p.idx, 1, space, salt)
	if p.rng.IntN(2) == 0 {
		return p.first.Slug + "." + p.last.Slug + num + "@" + pick(p.rng, workDomains)
	}
	return personalEmail(p.rng, p.first.Slug, p.last.Slug, num, pick(p.rng, p.c.Domains))
}

// newPhones gives most people a mobile number, some a second number (a
// landline in the Netherlands).
func (p *person) newPhones(sl salts) []phone {
	r := p.rng.Float64()
	switch {
	case r < 0.30:
		return nil
	case r < 0.85:
		return []phone{mobileNumber(p.c.Code, uint64(p.idx)*3, sl.phone)}
	case p.c.Code == "NL":
		return []phone{mobileNumber("NL", uint64(p.idx)*3, sl.phone), dutchLandline(uint64(p.idx), sl.land)}
	default:
		return []phone{mobileNumber(p.c.Code, uint64(p.idx)*3, sl.phone), mobileNumber(p.c.Code, uint64(p.idx)*3+1, sl.phone)}
	}
}

// birthday returns a date of birth of an adult customer.
func birthday(rng *rand.Rand) string {
	y, m, d := 1950+rng.IntN(56), 1+rng.IntN(12), 1+rng.IntN(28)
	return pad(uint64(y), 4) + "-" + pad(uint64(m), 2) + "-" + pad(uint64(d), 2)
}

// journeyLength draws how many messages a person's journey has: one, and
// a log-normal number more, so that the mean is mean and a few people are
// very active.
func journeyLength(rng *rand.Rand, mean float64) int {
	const sigma = 0.9
	if mean <= 1 {
		return 1
	}
	mu := math.Log(mean-1) - sigma*sigma/2
	n := 1 + int(math.Round(math.Exp(mu+sigma*rng.NormFloat64())))
	return min(n, int(50*mean))
}

// addDevices gives the person one to four devices of their own.
func (p *person) addDevices() {
	n := 1
	switch r := p.rng.Float64(); {
	case r < 0.40:
	case r < 0.75:
		n = 2
	case r < 0.93:
		n = 3
	default:
		n = 4
	}
	for i := range n {
		d := makeDevice(p.rng, p.deviceKind(i))
		d.weight, d.willLogin = 2, p.rng.Float64() < 0.8
		if i == 0 {
			d.weight, d.willLogin = 4, true
		}
		p.devices = append(p.devices, d)
	}
}

// deviceKind picks the kind of the person's i-th device.
func (p *person) deviceKind(i int) devKind {
	r := p.rng.IntN(100)
	if i > 0 {
		r = p.rng.IntN(70) + 30 // second devices are more often phones
	}
	switch {
	case r < 45:
		return devDesktop
	case r < 72:
		return devMobileWeb
	case r < 88:
		return devIOS
	default:
		return devAndroid
	}
}

// makeDevice makes a device of kind k, drawing from rng.
func makeDevice(rng *rand.Rand, k devKind) *device {
	d := &device{kind: k, anonID: newUUID(rng, false), ip: ipAddress(rng)}
	switch k {
	case devDesktop:
		d.agent = pick(rng, desktopAgents)
	case devMobileWeb:
		d.agent = pick(rng, mobileAgents)
	case devTablet:
		d.agent = pick(rng, tabletAgents)
	case devIOS:
		d.app, d.model = true, &iosModels[rng.IntN(len(iosModels))]
		d.deviceID = newUUID(rng, true)
		d.adTracking = rng.IntN(4) == 0 // most iPhone users decline tracking
		d.adID = adID(rng, d.adTracking, true)
	case devAndroid:
		d.app, d.model = true, &androidModels[rng.IntN(len(androidModels))]
		d.deviceID = androidID(rng)
		d.adTracking = rng.IntN(7) != 0
		d.adID = adID(rng, d.adTracking, false)
	}
	if rng.IntN(25) == 0 {
		// A device whose clock is off: timestamp and sentAt are both off.
		d.skewMS = int64(rng.IntN(6*3600_000-60_000) + 60_000)
		if rng.IntN(2) == 0 {
			d.skewMS = -d.skewMS
		}
	}
	return d
}

// sharedDevice is a family tablet: the browser or the app.
func sharedDevice(rng *rand.Rand) *device {
	d := makeDevice(rng, devTablet)
	if rng.IntN(2) == 0 {
		d = makeDevice(rng, devAndroid)
		d.model = &tabletModels[1]
	}
	d.shared, d.weight = true, 3
	return d
}

func adID(rng *rand.Rand, tracking, upper bool) string {
	if !tracking {
		return zeroUUID
	}
	return newUUID(rng, upper)
}

// ipAddress returns an address of the ranges reserved for documentation.
func ipAddress(rng *rand.Rand) string {
	nets := [3]string{"192.0.2.", "198.51.100.", "203.0.113."}
	return nets[rng.IntN(3)] + pad(uint64(1+rng.IntN(254)), 1)
}

// pick returns a random element of s.
func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// eventIDs are the identifying values a message carries, before
// formatting. Junk values are not among them.
type eventIDs struct {
	userID string
	anonID string
	dev    *device // nil for the mail tool's messages
	email  int     // index in emails, or -1
	phone  int     // index in phones, or -1
}

// ids returns what ev carries: the one function both the messages and
// the truth are made from, so they cannot disagree.
func (p *person) ids(ev *event) eventIDs {
	out := eventIDs{email: int(ev.email), phone: int(ev.phone)}
	if ev.user {
		out.userID = p.userID
	}
	switch {
	case ev.dev >= 0:
		out.dev = p.devices[ev.dev]
		out.anonID = out.dev.anonID
	case !ev.user:
		out.anonID = p.espID
	}
	return out
}
