package segment

// Urgent implements engine.UrgentObserver: audience changes not yet saved
// are waited for by the destinations they go to, so the profile stage
// saves them within milliseconds instead of at its next regular checkpoint.
func (s *Segments) Urgent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending.len() > 0
}
