package privacy

// The audience condition consent(...) reads this model through the
// Observer: the segment engine asks it after each event that may change a
// profile's consent. The Observer must be told each event before the
// segment engine, so the answer includes that event's decision.

// MayChange reports, cheaply, whether an event's raw message may carry a
// consent signal (categoryPreferences, TCF, Consent Mode, GPC, or a
// decision made through the API).
func (o *Observer) MayChange(msg []byte) bool { return mayCarryConsent(msg) }

// Consent returns the profile's consent now, purpose by purpose, each
// purpose without a decision at its default. It reads memory only.
func (o *Observer) Consent(profileID uint64) map[string]bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	s := o.states[profileID]
	cfg := o.config()
	out := make(map[string]bool, len(cfg.purposes.list))
	for _, p := range cfg.purposes.list {
		if s.Granted(cfg.purposes, p.Name) {
			out[p.Name] = true
		}
	}
	return out
}
