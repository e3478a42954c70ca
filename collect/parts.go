package collect

import "github.com/mosaic-cdp/mosaic/internal/jsonscan"

// The cleaner reads the members of each message's traits, properties,
// context and context.traits. Splitting those objects while the scanner
// validates them, in the one pass collect makes over the body anyway,
// spares the cleaner a second read of their bytes, which was most of what
// cleaning cost an event that needs no change.

// isPartKey reports whether an unescaped top-level key names a part the
// cleaner reads.
func isPartKey(key []byte) bool {
	switch string(key) {
	case "traits", "properties", "context":
		return true
	}
	return false
}

// splitPart validates the object at b[i], the value of top-level member m,
// as value does, appending its members to s.parts and noting where they
// are in m; for a context, the members of its first traits object go to
// s.ctxTraits. It returns the offset after the object and its depth.
// String flags accumulate in s.flags, as value's do.
func (s *scanner) splitPart(b []byte, i int, m *member) (end, depth int, err error) {
	lo := len(s.parts)
	m.split, m.sub, m.ctxTraits = true, [2]int32{int32(lo), int32(lo)}, -1
	isCtx := string(m.key) == "context"
	end, depth, err = s.splitObject(b, i, &s.parts, func(key []byte, v int) (int, int, error) {
		if !isCtx || m.ctxTraits >= 0 || string(key) != "traits" || v >= len(b) || b[v] != '{' {
			return s.value(b, v)
		}
		m.ctxTraits = int32(len(s.parts) - lo)
		tlo := len(s.ctxTraits)
		end, depth, err := s.splitObject(b, v, &s.ctxTraits, s.valueAt(b))
		m.traitsSub = [2]int32{int32(tlo), int32(len(s.ctxTraits))}
		return end, depth, err
	})
	m.sub[1] = int32(len(s.parts))
	return end, depth, err
}

// valueAt returns value as splitObject's value function.
func (s *scanner) valueAt(b []byte) func(key []byte, v int) (int, int, error) {
	return func(_ []byte, v int) (int, int, error) { return s.value(b, v) }
}

// splitObject validates the object at b[i] as value does, appending its
// members to *dst; value scans each member's value (key, and the offset
// of the value after optional space) and returns the offset after it and
// its depth.
func (s *scanner) splitObject(b []byte, i int, dst *[]jsonscan.Member, value func(key []byte, v int) (int, int, error)) (end, depth int, err error) {
	depth = 1
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return i + 1, depth, nil
	}
	for {
		start := i
		if i, err = s.key(b, i); err != nil {
			return i, 0, err
		}
		key := b[start+1 : lastQuote(b, i)]
		vstart := skipSpace(b, i)
		var d int
		if i, d, err = value(key, vstart); err != nil {
			return i, 0, err
		}
		depth = max(depth, d+1)
		*dst = append(*dst, jsonscan.Member{Key: key, Val: b[vstart:i]})
		switch i = skipSpace(b, i); {
		case i < len(b) && b[i] == '}':
			return i + 1, depth, nil
		case i >= len(b):
			return i, 0, errAt(b, i, "',' or the end of an object or array")
		case b[i] != ',':
			return i, 0, errAt(b, i, "',' or '}'")
		}
		i = skipSpace(b, i+1)
	}
}

// partMembers returns the members the scanner kept of m's object, or nil
// if it kept none. They are the cleaner's to change: each message is
// cleaned once.
func partMembers(parts []jsonscan.Member, m *member) []jsonscan.Member {
	if !m.split {
		return nil
	}
	return nonNil(parts[m.sub[0]:m.sub[1]:m.sub[1]])
}

// ctxTraitsMembers returns the members the scanner kept of the traits of
// the context m, and their index among the context's members; -1 if it
// kept none.
func ctxTraitsMembers(ctxTraits []jsonscan.Member, m *member) (int, []jsonscan.Member) {
	if !m.split || m.ctxTraits < 0 {
		return -1, nil
	}
	return int(m.ctxTraits), nonNil(ctxTraits[m.traitsSub[0]:m.traitsSub[1]:m.traitsSub[1]])
}

// nonNil makes an empty object's members an empty slice, not nil, which
// means "not split" to the cleaner.
func nonNil(ms []jsonscan.Member) []jsonscan.Member {
	if ms == nil {
		return []jsonscan.Member{}
	}
	return ms
}
