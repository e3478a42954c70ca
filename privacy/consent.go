package privacy

import (
	"cmp"
	"slices"
	"time"
)

// Sources of a consent decision.
const (
	SourceEvent  = "event"  // Segment's context.consent.categoryPreferences
	SourceTCF    = "tcf"    // an IAB TCF v2.2 TC string
	SourceGCM    = "gcm"    // Google Consent Mode v2 fields
	SourceGPC    = "gpc"    // the Global Privacy Control signal (Sec-GPC: 1)
	SourceAPI    = "api"    // PUT /api/v1/profiles/{id}/consent
	SourceCMP    = "cmp"    // a consent management platform, through the API
	SourceImport = "import" // a bulk import, through the API
)

// Decision is one consent decision about one purpose: a grant or a denial,
// when Mosaic learned it, where from, and the raw signal that said so.
type Decision struct {
	Purpose string    `json:"purpose"`
	Granted bool      `json:"granted"`
	Time    time.Time `json:"time"` // when the signal reached Mosaic (receivedAt)
	Seq     uint64    `json:"seq"`  // the event log record that carried it
	Source  string    `json:"source"`
	// Signal is the raw signal, verbatim (cut to 2 KiB): the TC string,
	// the categoryPreferences object, the Consent Mode fields, the header.
	Signal        string `json:"signal,omitempty"`
	PolicyVersion string `json:"policy_version,omitempty"`
	// Actor is who set it through the API (a token's name); empty for
	// signals from events.
	Actor string `json:"actor,omitempty"`
	// Overridden says the decision was recorded but did not change the
	// state: a grant from a device signal after a GPC opt-out (see State).
	Overridden bool `json:"overridden,omitempty"`
}

// before orders decisions: by time, then log position.
func (d *Decision) before(o *Decision) bool {
	if c := d.Time.Compare(o.Time); c != 0 {
		return c < 0
	}
	return d.Seq < o.Seq
}

// State is a profile's consent: the decision in force per purpose. Purposes
// without one are at their default.
type State map[string]Decision

// stickyGPC reports whether d may not replace the GPC opt-out cur: once
// GPC opted a person out of sale and sharing, a later grant counts only if
// it was given explicitly through the API (the person asked, or the
// business asked and they agreed); a grant from a device signal such as a
// CMP category does not opt them back in, and neither does the absence of
// GPC (CCPA regulations, 11 CCR §7025).
func stickyGPC(cur, d *Decision) bool {
	return cur.Source == SourceGPC && !cur.Granted && d.Granted && !explicit(d.Source)
}

func explicit(source string) bool {
	return source == SourceAPI || source == SourceCMP || source == SourceImport
}

// Apply folds d into s and reports whether it took effect. Decisions must
// come in order (see Replay for any order); an older one than the decision
// in force is ignored.
func (s State) Apply(d *Decision) bool {
	cur, ok := s[d.Purpose]
	if ok && (d.before(&cur) || stickyGPC(&cur, d)) {
		return false
	}
	s[d.Purpose] = *d
	return true
}

// Merge folds o into s, as if o's decisions had been applied to s in order.
// Used when two profiles merge: the person's consent is the newest decision
// per purpose of either, with GPC's opt-out sticky.
func (s State) Merge(o State) {
	for _, d := range o {
		cur, ok := s[d.Purpose]
		switch {
		case !ok:
			s[d.Purpose] = d
		case d.before(&cur):
			if !stickyGPC(&d, &cur) {
				continue // s's is newer and stands
			}
			s[d.Purpose] = d // GPC's older opt-out beats a device grant
		default:
			s.Apply(&d)
		}
	}
}

// Replay returns the state that history gives at moment at (zero: now),
// marking each decision of history Overridden or not. history may be in
// any order; it is sorted in place.
func Replay(history []Decision, at time.Time) State {
	slices.SortStableFunc(history, func(a, b Decision) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	s := State{}
	for i := range history {
		d := &history[i]
		if !at.IsZero() && d.Time.After(at) {
			break
		}
		d.Overridden = !s.Apply(d)
	}
	return s
}

// Granted reports whether every purpose is granted in s, purposes without a
// decision counting at their default in p. Unknown purposes are not granted.
func (s State) Granted(p *Purposes, purposes ...string) bool {
	for _, name := range purposes {
		if !p.Has(name) {
			return false
		}
		d, ok := s[name]
		if ok && !d.Granted || !ok && !p.Default(name) {
			return false
		}
	}
	return true
}

func sortHistory(h []Decision) {
	slices.SortStableFunc(h, func(a, b Decision) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
}
