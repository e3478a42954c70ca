package clean

// A minimal reader of JSON objects that keeps every byte: the cleaner
// rewrites a few values of a message and must leave the rest exactly as
// collect normalised it. Inputs are already validated JSON.

// member is one key/value pair of an object, as spans of its bytes.
type member struct {
	key []byte // the raw key, with its quotes
	val []byte // the raw value
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the offset after the string starting at b[i] ('"').
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the offset after the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && !isSpace(b[i]) {
		i++
	}
	return i
}

// memberHint is the capacity members' callers start with: enough for the
// objects of a typical message (a browser event's context has about 12
// members), so that splitting one rarely grows the slice, which profiling
// the ingest path showed to cost more than the scanning itself.
const memberHint = 24

// members splits the object b into its members, appending to dst. ok is
// false if b is not an object.
func members(b []byte, dst []member) ([]member, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return dst, false
	}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] != '}' {
		if b[i] != '"' {
			return dst, false
		}
		k := skipString(b, i)
		var m member
		m.key = b[i:k]
		i = skipSpace(b, k)
		if i >= len(b) || b[i] != ':' {
			return dst, false
		}
		v := skipSpace(b, i+1)
		i = skipValue(b, v)
		m.val = b[v:i]
		dst = append(dst, m)
		if i = skipSpace(b, i); i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return dst, true
}

// keyName returns the key without quotes; keys with escapes are rare and
// compared escaped, so "\u0065mail" is not recognised as "email".
func (m *member) keyName() string {
	if len(m.key) < 2 {
		return ""
	}
	return string(m.key[1 : len(m.key)-1])
}

// writeObject appends an object of ms to dst.
func writeObject(dst []byte, ms []member) []byte {
	dst = append(dst, '{')
	for i, m := range ms {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, m.key...)
		dst = append(dst, ':')
		dst = append(dst, m.val...)
	}
	return append(dst, '}')
}
