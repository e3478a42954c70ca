package clean

import "bytes"

// Most values that reach the cleaner are clean already: an email address
// a site's login form lower-cased, a product name. Telling so from the
// raw JSON string, without making it a Go string and running the step,
// saves the allocations and most of the cost; anything the checks below
// are not sure of goes to the step itself. Tests and fuzz targets hold
// each check to the step's answer.

// plainString returns the bytes of the JSON string raw without its quotes
// if it holds no escapes; ok is false otherwise.
func plainString(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	return s, true
}

// cleanAlready reports whether step would keep the plain string s as it
// is, without a problem; false means it does not know.
func cleanAlready(step string, s []byte) bool {
	switch step {
	case StepEmail:
		return emailClean(s)
	case StepName:
		return nameClean(s)
	}
	return false
}

// emailClean reports whether Email(s) is s itself: printable ASCII
// without spaces, capitals or the characters Email refuses, one '@' after
// something, and a domain with a dot inside it and no empty label.
func emailClean(s []byte) bool {
	at := -1
	for i, c := range s {
		switch {
		case c <= ' ' || c >= 0x7f || (c >= 'A' && c <= 'Z'):
			return false
		case c == ',' || c == ';' || c == '<' || c == '>':
			return false
		case c == '@':
			if at >= 0 {
				return false
			}
			at = i
		}
	}
	if at <= 0 || bytes.HasPrefix(s, []byte("mailto:")) {
		return false
	}
	domain := s[at+1:]
	dot := bytes.IndexByte(domain, '.')
	return dot > 0 && domain[len(domain)-1] != '.' && !bytes.Contains(domain, []byte(".."))
}

// nameClean reports whether Name(s) is s itself: ASCII whose only white
// space is single spaces between words.
func nameClean(s []byte) bool {
	if len(s) == 0 || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 0x80 || (c >= '\t' && c <= '\r'):
			return false // other white space, or text Name must read as UTF-8
		case c == ' ' && s[i-1] == ' ':
			return false
		}
	}
	return true
}
