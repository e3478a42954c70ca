package identity

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Rules decide which identifiers may share a profile. They are configured
// per installation, shown in the API, and apply to events resolved after
// they change; replay the log to apply a change to history.
//
// The defaults follow Segment Unify's documented identity resolution
// settings ("Identity Resolution Settings" and "Identity Resolution
// Onboarding" in Segment's docs): a limit of 1 user_id and 5 of every other
// identifier per profile; priority user_id first, email second, the rest
// after; suggested blocked values "zeroes and dashes" (^[0-]*$), -1, null and
// anonymous. Segment's limits count within a time window ("5 weekly"); Mosaic
// counts over a profile's whole life, so anonymous_id, which a person gains
// every time cookies are cleared or a new browser is used, gets 1,000.
type Rules struct {
	// Limits is the most identifiers of a type one profile may hold. A link
	// that would take a profile past a limit is refused. user_id must be 1:
	// two different user ids are never merged. Types not listed get
	// DefaultLimit.
	Limits map[string]int `json:"limits"`
	// DefaultLimit applies to types not in Limits (custom ids). Default 5.
	DefaultLimit int `json:"default_limit"`
	// Priority orders types from most to least trusted. When an event would
	// break a limit or a never-link rule, the lowest-priority conflicting
	// identifier is dropped from the event's links. Types not listed rank
	// after the listed ones, in alphabetical order. Default: user_id, email,
	// phone, device_id, advertising_id, anonymous_id.
	Priority []string `json:"priority"`
	// Blocked values never link anything: an identifier whose normalised
	// value matches is ignored, whatever its type. An entry is an exact
	// value, a pattern where '*' matches any run of characters (both
	// compared without regard to ASCII case), or "re:" and a Go regular
	// expression (RE2 syntax) matched against the value.
	Blocked []string `json:"blocked"`
	// NeverLink holds pairs of identifiers that must never share a profile.
	// Split adds to it; the engine must store it with the rest of the rules,
	// so that a replay of the log keeps the split.
	NeverLink []NeverLink `json:"never_link"`
}

// NeverLink is a stored rule: A and B are never put in one profile. When an
// event would do it, the lower-priority side is dropped from the event's
// links and a refusal with rule "split" is recorded.
type NeverLink struct {
	A Identifier `json:"a"`
	B Identifier `json:"b"`
}

// DefaultRules returns the rules used when an installation sets none.
func DefaultRules() Rules {
	return Rules{
		Limits: map[string]int{
			TypeUserID:        1,
			TypeEmail:         5,
			TypePhone:         5,
			TypeDeviceID:      5,
			TypeAdvertisingID: 5,
			TypeAnonymousID:   1000,
		},
		DefaultLimit: 5,
		Priority: []string{TypeUserID, TypeEmail, TypePhone, TypeDeviceID,
			TypeAdvertisingID, TypeAnonymousID},
		Blocked: DefaultBlocked(),
	}
}

// DefaultBlocked returns the default blocked values: placeholders that
// programs send when they have no real value, and e-mail addresses people
// type into forms to get past them, including every address at the domains
// reserved for examples and tests (RFC 2606).
func DefaultBlocked() []string {
	return []string{
		"", "null", "undefined", "anonymous", "none", "nil", "unknown",
		"n/a", "na", "-1", "void", "(null)", "[object object]",
		// Zeroes and dashes: "0", "000", "-", the all-zero UUID (sent as the
		// advertising id when ad tracking is off).
		"re:^[0-]+$",
		"test@test.com", "test@test.test", "example@example.com",
		"email@email.com", "user@user.com", "a@a.com", "test@gmail.com",
		"noreply@*", "no-reply@*",
		"*@example.com", "*@example.org", "*@example.net",
		"*.example", "*.invalid", "*.test", "*.localhost", "*@localhost",
	}
}

// ErrInvalidRules means a Rules value cannot be used.
var ErrInvalidRules = errors.New("identity: invalid rules")

// Validate reports the first problem that makes r unusable.
func (r Rules) Validate() error {
	if err := r.validateLimits(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, t := range r.Priority {
		if err := checkTypeName(t); err != nil {
			return fmt.Errorf("%w: priority: %w", ErrInvalidRules, err)
		}
		if seen[t] {
			return fmt.Errorf("%w: priority lists %q twice; list each type once", ErrInvalidRules, t)
		}
		seen[t] = true
	}
	if _, err := compileBlocked(r.Blocked); err != nil {
		return err
	}
	for _, nl := range r.NeverLink {
		for _, id := range []Identifier{nl.A, nl.B} {
			if err := checkTypeName(id.Type); err != nil || id.Value == "" || id.Type == TypePreviousID {
				return fmt.Errorf("%w: never_link has %q; use a type and a value, e.g. email:jane@mosaic.dev", ErrInvalidRules, id)
			}
		}
		if nl.A == nl.B {
			return fmt.Errorf("%w: never_link pairs %q with itself", ErrInvalidRules, nl.A)
		}
	}
	return nil
}

func (r Rules) validateLimits() error {
	for t, n := range r.Limits {
		if err := checkTypeName(t); err != nil {
			return fmt.Errorf("%w: limits: %w", ErrInvalidRules, err)
		}
		if n < 1 || n > maxLimit {
			return fmt.Errorf("%w: limit of %q is %d; use 1 to %d", ErrInvalidRules, t, n, maxLimit)
		}
	}
	if n, ok := r.Limits[TypeUserID]; !ok || n != 1 {
		return fmt.Errorf("%w: limit of user_id must be 1: two different user ids are never merged", ErrInvalidRules)
	}
	if r.DefaultLimit < 1 || r.DefaultLimit > maxLimit {
		return fmt.Errorf("%w: default_limit is %d; use 1 to %d", ErrInvalidRules, r.DefaultLimit, maxLimit)
	}
	return nil
}

// maxLimit bounds limits so per-profile counts fit 16 bits.
const maxLimit = 60000

// clone returns a deep copy of r, so a Graph never shares slices with its
// caller.
func (r Rules) clone() Rules {
	c := r
	c.Limits = make(map[string]int, len(r.Limits))
	for k, v := range r.Limits {
		c.Limits[k] = v
	}
	c.Priority = slices.Clone(r.Priority)
	c.Blocked = slices.Clone(r.Blocked)
	c.NeverLink = slices.Clone(r.NeverLink)
	return c
}

// blocklist matches values against Rules.Blocked.
type blocklist struct {
	exact map[string]bool // lower-cased
	globs [][]string      // lower-cased pattern split at '*'
	res   []*regexp.Regexp
}

func compileBlocked(patterns []string) (*blocklist, error) {
	b := &blocklist{exact: map[string]bool{}}
	for _, p := range patterns {
		switch {
		case strings.HasPrefix(p, "re:"):
			re, err := regexp.Compile(p[3:])
			if err != nil {
				return nil, fmt.Errorf("%w: blocked pattern %q: %w", ErrInvalidRules, p, err)
			}
			b.res = append(b.res, re)
		case strings.Contains(p, "*"):
			b.globs = append(b.globs, strings.Split(strings.ToLower(p), "*"))
		default:
			b.exact[strings.ToLower(p)] = true
		}
	}
	return b, nil
}

// match reports whether v is blocked.
func (b *blocklist) match(v string) bool {
	var buf [64]byte
	lv := asciiLower(buf[:0], v)
	if b.exact[string(lv)] {
		return true
	}
	for _, g := range b.globs {
		if globMatch(g, lv) {
			return true
		}
	}
	for _, re := range b.res {
		if re.MatchString(v) {
			return true
		}
	}
	return false
}

func asciiLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// globMatch matches v against a pattern already split at its '*'s.
func globMatch(parts []string, v []byte) bool {
	first, last := parts[0], parts[len(parts)-1]
	if len(v) < len(first)+len(last) || string(v[:len(first)]) != first ||
		string(v[len(v)-len(last):]) != last {
		return false
	}
	rest := v[len(first) : len(v)-len(last)]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(string(rest), mid)
		if i < 0 {
			return false
		}
		rest = rest[i+len(mid):]
	}
	return true
}

// typeRanks maps the types of Rules.Priority to their position.
func typeRanks(priority []string) map[string]int {
	rank := make(map[string]int, len(priority))
	for i, t := range priority {
		rank[t] = i
	}
	return rank
}

// SetRules makes r the graph's rules for the events resolved from now on:
// its limits, default limit, priority and blocked values. The never-link
// rules stay the graph's own (splits make them; r.NeverLink is ignored).
// Links made before are not re-examined: a replay of the log, or a split,
// does that. ErrInvalidRules, and nothing changed, if r is not valid.
func (g *Graph) SetRules(r Rules) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	r = r.clone()
	r.NeverLink = slices.Clone(g.rules.NeverLink)
	if err := r.Validate(); err != nil {
		return err
	}
	g.rules = r
	g.blocked, _ = compileBlocked(r.Blocked)
	g.rank = typeRanks(r.Priority)
	for i, t := range g.types.list {
		limit, ok := r.Limits[t]
		if !ok {
			limit = r.DefaultLimit
		}
		rank, ok := g.rank[t]
		if !ok {
			rank = len(r.Priority)
		}
		g.typeLimit[i], g.typeRank[i] = int32(limit), int32(rank)
	}
	return nil
}
