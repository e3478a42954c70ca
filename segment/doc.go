// Package segment keeps computed traits and audience memberships live: it
// is an engine.ProfileObserver that sees every event in log order, after
// identity resolution and merges, and keeps per profile the few things
// conditions read (the events they aggregate, the traits they compare, the
// latest consent), every audience's members, and one timer per profile and
// timed audience at the exact moment its answer can next flip.
//
// When an event changes a profile, only the audiences that depend on what
// changed (a trait they read, an event they aggregate, consent, a computed
// trait or another audience) are evaluated again, with the evaluator of
// package audience. Time windows flip when their timer fires; there is no
// periodic scan. Every entry and exit is appended to an ordered list of
// changes, saved in the same store transaction as the memberships, which
// delivery consumes (store.SegmentStore.AudienceChanges).
//
// New and edited definitions are backfilled in the background: the event
// history of the events they read is loaded from the log (joined with the
// stored timelines, which say whose each event is), consent likewise from
// every event, the traits they read from the profiles, then every profile
// is evaluated, on every core (previews too). Jobs report progress.
//
// Per-profile state is checkpointed in a binary form (codec.go); an
// event finds the audiences to evaluate through indexes by event name,
// trait and consent (deps.go).
//
// docs/audiences.md describes the behaviour for users.
package segment
