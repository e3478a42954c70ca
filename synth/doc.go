// Package synth generates synthetic customer journeys as Segment messages,
// deterministically from a seed, for tests and benchmarks of identity
// resolution and profiles.
//
// Each person has a country, a name, one or more e-mail addresses and
// phone numbers, and one to four devices: browsers (an anonymousId each)
// and the iOS and Android apps (also context.device.id and an advertising
// id). Their journey is a series of sessions over days: anonymous visits,
// a sign-up or a newsletter subscription, logins on their other devices,
// product views, carts and orders (with revenue, currency and products),
// and e-mail campaigns opened and clicked. Along the way real data's
// difficulties happen at configurable rates: families sharing a tablet on
// which both log in with their own user id, people changing their e-mail
// address, junk values ("undefined", "0", "test@test.com") where an
// identifier should be, phone numbers in national and international
// formats ("06 12345678", "+31 6 12345678", "(415) 555-2671"), device clocks
// that are off, and messages that arrive hours or days late.
//
// A Generator streams the messages in arrival order with memory bounded
// by a window of people, not by the size of the data set, so a million
// people and ten million messages take a few megabytes. Options.Truth
// reports, per person, the identifiers they own and which of them their
// messages link, so a test can measure how well a resolver did.
//
//	g := synth.New(synth.Options{People: 1000, Seed: 7})
//	for msg := range g.All() {
//		// msg is one JSON message, valid until the next one.
//	}
package synth
