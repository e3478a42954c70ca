package segment

import (
	"slices"
	"time"
)

// Memberships and timers are the bulk of the per-profile state and are read
// and written by every evaluation. They are kept as small sorted slices of
// plain numbers keyed by an audience's slot (a small integer the engine
// gives each audience ID) instead of maps keyed by ID: the garbage
// collector does not scan them, and a lookup hashes no string. A slot only
// lives in memory; saved states name audiences by ID.

// slotTime is one audience's moment: when the profile entered it, or when
// it is to be evaluated again. The instant is kept as seconds and
// nanoseconds, which hold every time.Time without a pointer to a zone.
type slotTime struct {
	sec  int64
	nsec int32
	slot int32
}

func (e slotTime) time() time.Time { return time.Unix(e.sec, int64(e.nsec)).UTC() }

// slotTimes is a profile's moments by slot, sorted by slot.
type slotTimes []slotTime

func (m slotTimes) find(slot int32) (int, bool) {
	// Linear: a profile is in few audiences, and a scan of a few entries
	// beats a binary search.
	for i, e := range m {
		if e.slot >= slot {
			return i, e.slot == slot
		}
	}
	return len(m), false
}

func (m slotTimes) has(slot int32) bool {
	_, ok := m.find(slot)
	return ok
}

func (m slotTimes) get(slot int32) (time.Time, bool) {
	i, ok := m.find(slot)
	if !ok {
		return time.Time{}, false
	}
	return m[i].time(), true
}

// equal reports whether slot's moment is t.
func (m slotTimes) equal(slot int32, t time.Time) bool {
	i, ok := m.find(slot)
	return ok && m[i].sec == t.Unix() && m[i].nsec == int32(t.Nanosecond())
}

func (m *slotTimes) set(slot int32, t time.Time) {
	e := slotTime{sec: t.Unix(), nsec: int32(t.Nanosecond()), slot: slot}
	i, ok := m.find(slot)
	if ok {
		(*m)[i] = e
		return
	}
	*m = slices.Insert(*m, i, e)
}

// flip makes the slot's membership in, entered at at, and reports
// whether it changed.
func (m *slotTimes) flip(slot int32, in bool, at time.Time) bool {
	i, ok := m.find(slot)
	switch {
	case ok == in:
		return false
	case in:
		*m = slices.Insert(*m, i, slotTime{sec: at.Unix(), nsec: int32(at.Nanosecond()), slot: slot})
	default:
		*m = slices.Delete(*m, i, i+1)
	}
	return true
}

// schedule makes at the slot's moment, zero none, and reports whether it
// changed.
func (m *slotTimes) schedule(slot int32, at time.Time) bool {
	if at.IsZero() {
		return m.del(slot)
	}
	if m.equal(slot, at) {
		return false
	}
	m.set(slot, at)
	return true
}

// del removes slot's moment and reports whether there was one.
func (m *slotTimes) del(slot int32) bool {
	i, ok := m.find(slot)
	if ok {
		*m = slices.Delete(*m, i, i+1)
	}
	return ok
}

// slotOf returns the slot of an audience ID, giving it one if it has none.
// The caller holds s.mu. Slots are not reused: an audience deleted and
// another created cannot be mistaken for each other.
func (s *Segments) slotOf(id string) int32 {
	if n, ok := s.slots[id]; ok {
		return n
	}
	s.slotIDs = append(s.slotIDs, id)
	s.slotEnc = append(s.slotEnc, appendString(nil, id))
	n := int32(len(s.slotIDs) - 1)
	s.slots[id] = n
	return n
}

// slotID returns the audience ID of a slot.
func (s *Segments) slotID(slot int32) string { return s.slotIDs[slot] }

// timesByID converts a profile's moments to a map by audience ID.
func (s *Segments) timesByID(m slotTimes) map[string]time.Time {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]time.Time, len(m))
	for _, e := range m {
		out[s.slotID(e.slot)] = e.time()
	}
	return out
}

// timesFromID converts moments by audience ID to slots.
func (s *Segments) timesFromID(in map[string]time.Time) slotTimes {
	var out slotTimes
	for id, t := range in {
		out.set(s.slotOf(id), t)
	}
	return out
}

// memberIDs returns the IDs of the audiences a profile is in, sorted: the
// order its exits are recorded in when it leaves them all.
func (s *Segments) memberIDs(p *pstate) []string {
	ids := make([]string, len(p.member))
	for i, e := range p.member {
		ids[i] = s.slotID(e.slot)
	}
	slices.Sort(ids)
	return ids
}
