package synth

import (
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// parsed is a message decoded for the property tests.
type parsed struct {
	Type        string    `json:"type"`
	UserID      string    `json:"userId"`
	AnonymousID string    `json:"anonymousId"`
	Event       string    `json:"event"`
	Timestamp   time.Time `json:"timestamp"`
	SentAt      time.Time `json:"sentAt"`
	Traits      contact   `json:"traits"`
	Properties  struct {
		Channel  string   `json:"channel"`
		Revenue  *float64 `json:"revenue"`
		Currency string   `json:"currency"`
		Products []struct {
			ProductID string   `json:"product_id"`
			Category  string   `json:"category"`
			Price     *float64 `json:"price"`
		} `json:"products"`
	} `json:"properties"`
	Context struct {
		Traits contact `json:"traits"`
		Device struct {
			ID string `json:"id"`
		} `json:"device"`
	} `json:"context"`
}

type contact struct {
	Email string `json:"email"`
	Phone string `json:"phone"`
}

func parseAll(t *testing.T, d generated) []parsed {
	t.Helper()
	out := make([]parsed, len(d.msgs))
	for i, m := range d.msgs {
		if err := json.Unmarshal(m.JSON, &out[i]); err != nil {
			t.Fatalf("message %d does not decode: %v\n%s", i, err, m.JSON)
		}
	}
	return out
}

// stats counts what the property tests look for in a data set.
type stats struct {
	messages, late, junkUsers, junkEmails, junkPhones int
	outOfOrder, orders, mailOpened, mailClicked       int
	appDevices, sharedPeople                          int
	phoneShapes                                       map[string]int
	userEmails                                        map[string]map[string]bool // userId → addresses identified
	anonUsers                                         map[string]map[string]bool // anonymousId → real userIds
}

// phoneShapes classify how a number is written.
var phoneShapes = []struct {
	name string
	re   *regexp.Regexp
}{
	{"dutch mobile 06", regexp.MustCompile(`^06[ -]?\d`)},
	{"dutch landline", regexp.MustCompile(`^0[1-57-9]0[ -]?\d`)},
	{"us (415) 555-2671", regexp.MustCompile(`^\(\d{3}\) \d{3}-\d{4}$`)},
	{"us 415.555.2671", regexp.MustCompile(`^\d{3}[.-]\d{3}[.-]\d{4}$`)},
	{"+31 6", regexp.MustCompile(`^\+31 6 \d{8}$`)},
	{"+31 (0)6", regexp.MustCompile(`^\+31 \(0\)6`)},
	{"0031", regexp.MustCompile(`^0031 `)},
	{"+E164", regexp.MustCompile(`^\+\d{9,14}$`)},
	{"+1 415", regexp.MustCompile(`^\+1 `)},
	{"other international", regexp.MustCompile(`^\+(32|44|49) `)},
}

func count(t *testing.T, d generated) stats {
	t.Helper()
	s := stats{phoneShapes: map[string]int{}, userEmails: map[string]map[string]bool{}, anonUsers: map[string]map[string]bool{}}
	lastTS := map[string]time.Time{}
	for _, m := range parseAll(t, d) {
		s.add(m, lastTS)
	}
	for _, p := range d.people {
		if len(p.Shared) > 0 && p.UserID != "" && d.people[p.Partner].UserID != "" {
			s.sharedPeople++
		}
	}
	return s
}

func (s *stats) add(m parsed, lastTS map[string]time.Time) {
	s.messages++
	if m.SentAt.Sub(m.Timestamp) >= time.Hour {
		s.late++
	}
	key := m.AnonymousID + "/" + m.UserID
	if prev, ok := lastTS[key]; ok && m.Timestamp.Before(prev) {
		s.outOfOrder++
	}
	lastTS[key] = m.Timestamp
	junkUser := slices.Contains(junkUserIDs, m.UserID)
	if junkUser {
		s.junkUsers++
	}
	for _, c := range []contact{m.Traits, m.Context.Traits} {
		s.addContact(c)
	}
	if m.Type == "identify" && m.UserID != "" && m.Traits.Email != "" && !slices.Contains(junkEmails, m.Traits.Email) {
		addTo(s.userEmails, m.UserID, strings.ToLower(strings.TrimSpace(m.Traits.Email)))
	}
	if m.AnonymousID != "" && m.UserID != "" && !junkUser {
		addTo(s.anonUsers, m.AnonymousID, m.UserID)
	}
	s.addTrack(m)
}

func (s *stats) addContact(c contact) {
	if slices.Contains(junkEmails, c.Email) {
		s.junkEmails++
	}
	if slices.Contains(junkPhones, c.Phone) {
		s.junkPhones++
	} else if c.Phone != "" {
		for _, sh := range phoneShapes {
			if sh.re.MatchString(c.Phone) {
				s.phoneShapes[sh.name]++
				break
			}
		}
	}
}

func (s *stats) addTrack(m parsed) {
	if m.Context.Device.ID != "" {
		s.appDevices++
	}
	switch m.Event {
	case "Order Completed":
		if m.Properties.Revenue != nil && *m.Properties.Revenue > 0 && m.Properties.Currency != "" &&
			len(m.Properties.Products) > 0 && m.Properties.Products[0].ProductID != "" &&
			m.Properties.Products[0].Category != "" && m.Properties.Products[0].Price != nil {
			s.orders++
		}
	case "Email Opened":
		if m.Properties.Channel == "email" {
			s.mailOpened++
		}
	case "Email Link Clicked":
		if m.Properties.Channel == "email" {
			s.mailClicked++
		}
	}
}

func addTo(m map[string]map[string]bool, k, v string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	m[k][v] = true
}

// atLeast counts map entries with at least n values.
func atLeast(m map[string]map[string]bool, n int) int {
	c := 0
	for _, vs := range m {
		if len(vs) >= n {
			c++
		}
	}
	return c
}

func TestJourneysHaveRealDataProblems(t *testing.T) {
	d := generate(t, small(3000, 21))
	s := count(t, d)
	checks := []struct {
		name string
		got  int
	}{
		{"late messages", s.late},
		{"messages out of order for one device", s.outOfOrder},
		{"junk user ids", s.junkUsers},
		{"junk e-mail addresses", s.junkEmails},
		{"junk phone numbers", s.junkPhones},
		{"orders with revenue, currency and products", s.orders},
		{"Email Opened with channel", s.mailOpened},
		{"Email Link Clicked with channel", s.mailClicked},
		{"messages with context.device.id", s.appDevices},
		{"people sharing a device, both with a user id", s.sharedPeople},
		{"devices carrying two real user ids", atLeast(s.anonUsers, 2)},
		{"user ids identified with two e-mail addresses", atLeast(s.userEmails, 2)},
		{"phone formats", len(s.phoneShapes)},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got == 0 {
				t.Errorf("%s in 3,000 people = 0, want some", c.name)
			}
		})
	}
	if len(s.phoneShapes) < 7 {
		t.Errorf("phone shapes = %v, want at least 7 different ones", s.phoneShapes)
	}
}

func TestPeopleOwnSeveralIdentifiers(t *testing.T) {
	d := generate(t, small(2000, 4))
	byType := func(p Person, typ string) int {
		n := 0
		for _, id := range p.Identifiers() {
			if id.Type == typ {
				n++
			}
		}
		return n
	}
	for _, tt := range []struct {
		typ  string
		want int
	}{{TypeAnonymousID, 2}, {TypeEmail, 2}, {TypePhone, 2}, {TypeDeviceID, 1}, {TypeAdvertisingID, 1}, {TypeUserID, 1}} {
		t.Run(tt.typ, func(t *testing.T) {
			n := 0
			for _, p := range d.people {
				if byType(p, tt.typ) >= tt.want {
					n++
				}
			}
			if n == 0 {
				t.Errorf("people with at least %d %s = 0, want some", tt.want, tt.typ)
			}
		})
	}
}

// The rates drive what they name: at zero the problem is gone, and at a
// positive rate it happens about that often.
func TestRatesControlProblems(t *testing.T) {
	zero := small(1000, 9)
	zero.JunkRate, zero.LateRate, zero.SharedDeviceRate = 0, 0, 0
	s := count(t, generate(t, zero))
	if s.late != 0 || s.junkUsers+s.junkEmails+s.junkPhones != 0 || s.sharedPeople != 0 {
		t.Errorf("with rates 0: late %d, junk %d, shared %d; want none",
			s.late, s.junkUsers+s.junkEmails+s.junkPhones, s.sharedPeople)
	}
	high := small(1000, 9)
	high.LateRate, high.SharedDeviceRate, high.EmailChangeRate = 0.2, 0.5, 0.3
	d := generate(t, high)
	s = count(t, d)
	accounts := 0
	for _, p := range d.people {
		if p.UserID != "" {
			accounts++
		}
	}
	if got := float64(atLeast(s.userEmails, 2)) / float64(accounts); got < 0.2 || got > 0.33 {
		t.Errorf("share of accounts identified with two addresses at EmailChangeRate 0.3 = %.3f, want 0.2 to 0.33", got)
	}
	if got := float64(s.late) / float64(s.messages); math.Abs(got-0.2) > 0.03 {
		t.Errorf("late share with LateRate 0.2 = %.3f, want 0.2 ± 0.03", got)
	}
	shared := 0
	for _, p := range d.people {
		if p.Partner >= 0 {
			shared++
		}
	}
	if got := float64(shared) / float64(len(d.people)); math.Abs(got-0.5) > 0.06 {
		t.Errorf("share of people with a partner at SharedDeviceRate 0.5 = %.3f, want 0.5 ± 0.06", got)
	}
}

func TestEventsPerPersonIsTheMean(t *testing.T) {
	for _, mean := range []float64{3, 10, 25} {
		o := small(2000, 13)
		o.EventsPerPerson = mean
		d := generate(t, o)
		got := float64(len(d.msgs)) / float64(o.People)
		if math.Abs(got-mean)/mean > 0.06 {
			t.Errorf("messages per person with EventsPerPerson %g = %.2f, want within 6%%", mean, got)
		}
		sum := 0
		for _, p := range d.people {
			sum += p.Messages
		}
		if sum != len(d.msgs) {
			t.Errorf("sum of Person.Messages = %d, want the %d messages generated", sum, len(d.msgs))
		}
	}
}

func TestTimestampsStayInPeriod(t *testing.T) {
	o := small(500, 2)
	o.LateRate = 0
	first, last := o.Start, o.Start.AddDate(0, 0, o.Days)
	for _, m := range parseAll(t, generate(t, o)) {
		// Skewed device clocks are off by up to six hours.
		if m.Timestamp.Before(first.Add(-6*time.Hour)) || m.Timestamp.After(last.Add(6*time.Hour)) {
			t.Fatalf("timestamp %s outside %s to %s", m.Timestamp, first, last)
		}
	}
}
