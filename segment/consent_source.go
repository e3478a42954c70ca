package segment

// ConsentSource is where the condition consent(...) reads when set in
// Options: the privacy consent model (package privacy's Observer), which
// folds every signal — categoryPreferences, TCF, Consent Mode, GPC, and
// decisions made through the API — follows merges and applies purpose
// defaults. It must observe each event before the segment engine does.
// Without it, the condition reads the latest categoryPreferences of the
// profile's events.
type ConsentSource interface {
	// MayChange reports, cheaply, whether an event's raw message may
	// change a profile's consent.
	MayChange(msg []byte) bool
	// Consent returns the purposes the profile has granted now.
	Consent(profileID uint64) map[string]bool
}

// refreshConsent reads the profile's consent from the source into p, and
// reports whether it changed.
func (s *Segments) refreshConsent(id uint64, p *pstate) bool {
	now := s.opts.Consent.Consent(id)
	if sameConsent(p.Consent, now) {
		return false
	}
	p.Consent = now
	s.touch(id, p)
	return true
}
