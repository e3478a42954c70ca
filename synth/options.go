package synth

import (
	"errors"
	"fmt"
	"time"
)

// MaxPeople is the most people one Generator makes: the spaces unique
// identifiers are drawn from (phone numbers above all) hold that many.
const MaxPeople = 10_000_000

// Options configure a Generator. Start from DefaultOptions and change what
// a test needs; New fills in zero Start, Days, EventsPerPerson, Region and
// Window with their defaults, while zero rates mean "none".
type Options struct {
	// People is how many people have journeys, at most MaxPeople.
	// DefaultOptions has 1,000.
	People int
	// EventsPerPerson is the mean number of messages per person; the
	// number varies from person to person (a long tail of heavy users).
	// Default 10.
	EventsPerPerson float64
	// Seed makes the output: the same Options give the same bytes.
	// DefaultOptions has 1.
	Seed int64
	// Start is the beginning of the period journeys happen in. Default
	// 2024-01-01 UTC.
	Start time.Time
	// Days is the length of that period. Default 30.
	Days int
	// JunkRate is the share of identifying values (user ids on anonymous
	// calls, form e-mails and phones) that are junk: "undefined", "0",
	// "anonymous", "test@test.com". DefaultOptions has 0.02; zero means
	// none, as for the other rates.
	JunkRate float64
	// SharedDeviceRate is the share of people who share a family device
	// with another person, both logging in on it with their own user id.
	// DefaultOptions has 0.05.
	SharedDeviceRate float64
	// EmailChangeRate is the share of people with an account who change
	// their e-mail address (about: a few journeys end before the change
	// is due). DefaultOptions has 0.05.
	EmailChangeRate float64
	// LateRate is the share of messages that arrive one hour to three days
	// after they happened (phones offline, retries). DefaultOptions has
	// 0.02.
	LateRate float64
	// Region is the shop's home country and the default region of phone
	// numbers its resolver assumes (identity's DefaultRegion): most people
	// live there and write their numbers without a country code. One of
	// NL, US, DE, BE, GB. Default NL.
	Region string
	// Window is how many people's journeys are interleaved in the stream
	// at any time. Memory grows with it; so does how far apart a person's
	// consecutive messages are in the stream. Default 64.
	Window int
	// Truth, if set, is called with what is known about each person (see
	// Person), in order of Index, before any of their messages is
	// returned. Keeping them is the caller's choice: a million Person
	// values take about a gigabyte.
	Truth func(Person)
}

// DefaultOptions returns the options of a small, realistic data set.
func DefaultOptions() Options {
	return Options{
		People:           1000,
		EventsPerPerson:  10,
		Seed:             1,
		Start:            time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		Days:             30,
		JunkRate:         0.02,
		SharedDeviceRate: 0.05,
		EmailChangeRate:  0.05,
		LateRate:         0.02,
		Region:           "NL",
		Window:           64,
	}
}

// withDefaults returns o with zero structural fields set to their defaults.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Start.IsZero() {
		o.Start = d.Start
	}
	if o.Days == 0 {
		o.Days = d.Days
	}
	if o.EventsPerPerson == 0 {
		o.EventsPerPerson = d.EventsPerPerson
	}
	if o.Region == "" {
		o.Region = d.Region
	}
	if o.Window == 0 {
		o.Window = d.Window
	}
	return o
}

// ErrInvalidOptions means Options cannot be used.
var ErrInvalidOptions = errors.New("synth: invalid options")

// Validate reports every problem that makes o unusable (after defaults).
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...))
	}
	if o.People < 0 || o.People > MaxPeople {
		bad("People is %d; use 0 to %d", o.People, MaxPeople)
	}
	if o.EventsPerPerson < 1 || o.EventsPerPerson > 10_000 {
		bad("EventsPerPerson is %g; use a mean from 1 to 10000", o.EventsPerPerson)
	}
	if o.Days < 1 || o.Days > 3650 {
		bad("Days is %d; use 1 to 3650", o.Days)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"JunkRate", o.JunkRate}, {"SharedDeviceRate", o.SharedDeviceRate},
		{"EmailChangeRate", o.EmailChangeRate}, {"LateRate", o.LateRate}} {
		if !(r.v >= 0 && r.v <= 1) {
			bad("%s is %g; use a share from 0 to 1", r.name, r.v)
		}
	}
	if countryOf(o.Region) == nil {
		bad("Region is %q; use one of NL, US, DE, BE, GB", o.Region)
	}
	if o.Window < 1 || o.Window > 1_000_000 {
		bad("Window is %d; use 1 to 1000000", o.Window)
	}
	return errors.Join(errs...)
}

// countryOf returns the country with ISO code code, or nil.
func countryOf(code string) *country {
	for _, c := range countries {
		if c.Code == code {
			return c
		}
	}
	return nil
}
