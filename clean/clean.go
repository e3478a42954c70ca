package clean

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// Cleaning steps; each can be turned off per source (Config.Disabled).
const (
	StepEmail   = "email"   // trim, lower-case, syntax check
	StepPhone   = "phone"   // E.164 with the source's default region
	StepName    = "name"    // trim, collapse white space
	StepCountry = "country" // names and codes to ISO 3166-1 alpha-2
	StepDate    = "date"    // dates and timestamps to RFC 3339
	StepNumber  = "number"  // amounts written as text to numbers
	StepBoolean = "boolean" // yes/no, ja/nee, 1/0 … to booleans
	// StepUserAgent adds browser, OS and device type from
	// context.userAgent; it runs where events are read from the log (see
	// Cleaner.Enrich), not on the request path.
	StepUserAgent = "user_agent"
	// StepGeo adds context.location from context.ip, with the server's
	// geolocation database.
	StepGeo = "geo"
)

// Steps lists every step, in the order they are documented.
var Steps = []string{StepEmail, StepPhone, StepName, StepCountry, StepDate, StepNumber, StepBoolean, StepUserAgent, StepGeo}

// Change records what cleaning did to one value: the field's path in the
// message ("traits.email"), the step, and the original value where it was
// changed, or the problem where the value was kept because it could not be
// cleaned.
type Change struct {
	Field    string          `json:"field"`
	Step     string          `json:"step"`
	Original json.RawMessage `json:"original,omitempty"`
	Problem  string          `json:"problem,omitempty"`
}

// stepFor returns the step that applies to a property or trait key, or "".
// Keys are matched without case, '_', '-' and spaces, so first_name,
// firstName and "First Name" are the same.
func stepFor(key string) string {
	if folded(key) { // most keys: spare the copy
		return stepForFolded(key, key)
	}
	// Every key of every message comes here: folding ASCII keys into a
	// stack buffer keeps that free of allocations.
	var buf [32]byte
	k, ok := foldKey(buf[:0], key)
	if !ok {
		k = []byte(strings.Map(func(r rune) rune {
			if r == '_' || r == '-' || r == ' ' {
				return -1
			}
			return unicode.ToLower(r)
		}, key))
	}
	return stepForFolded(string(k), key)
}

// stepForFolded is stepFor of key, folded as k.
func stepForFolded(k, key string) string {
	switch k {
	case "email", "emailaddress", "mail", "emailadres":
		return StepEmail
	case "phone", "phonenumber", "mobile", "mobilephone", "mobilenumber", "telephone", "telefoon", "telefoonnummer", "mobiel":
		return StepPhone
	case "firstname", "lastname", "name", "fullname", "middlename", "voornaam", "achternaam", "naam":
		return StepName
	case "country", "countrycode", "land":
		return StepCountry
	case "birthday", "birthdate", "dateofbirth", "dob", "geboortedatum":
		return StepDate
	case "revenue", "price", "total", "subtotal", "value", "amount", "tax", "shipping", "discount", "quantity":
		return StepNumber
	case "subscribed", "unsubscribed", "optin", "emailoptin", "smsoptin", "newsletter", "verified", "active":
		return StepBoolean
	}
	switch {
	case strings.HasSuffix(key, "At") || strings.HasSuffix(key, "_at"):
		return StepDate
	case isFlagName(key):
		return StepBoolean
	}
	return ""
}

// folded reports whether key is folded already: lower-case ASCII letters
// and digits only.
func folded(key string) bool {
	for i := 0; i < len(key); i++ {
		if c := key[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// foldKey appends key lower-cased and without '_', '-' and ' ' to dst; ok
// is false for keys that are not ASCII or too long for dst's capacity.
func foldKey(dst []byte, key string) ([]byte, bool) {
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 0x80:
			return nil, false
		case c == '_' || c == '-' || c == ' ':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if len(dst) == cap(dst) {
			return nil, false
		}
		dst = append(dst, c)
	}
	return dst, true
}

// isFlagName reports names like isVip, is_vip, hasAccount.
func isFlagName(key string) bool {
	for _, p := range []string{"is", "has"} {
		if len(key) > len(p) && strings.HasPrefix(key, p) {
			c := key[len(p)]
			if c == '_' || (c >= 'A' && c <= 'Z') {
				return true
			}
		}
	}
	return false
}

// valueCleaner applies the steps to single values.
type valueCleaner struct {
	phones   *Phones
	region   string
	disabled map[string]bool
	geo      *GeoDB // nil: no geolocation database configured
	ip       string // IPKeep, IPTruncate or IPRemove
}

// value cleans one raw JSON value for step. It returns the new raw value
// and whether it changed, or a problem when the value was kept as it was.
func (vc *valueCleaner) value(step string, raw []byte) (out []byte, changed bool, problem string) {
	if vc.disabled[step] || len(raw) == 0 || raw[0] != '"' {
		return raw, false, "" // only text is cleaned; numbers and booleans are already typed
	}
	if p, ok := plainString(raw); ok && cleanAlready(step, p) {
		return raw, false, ""
	}
	s := unquoted(raw) // no escapes: the common case, without the decoder
	plain := s != ""
	if !plain {
		var dec string
		if json.Unmarshal(raw, &dec) != nil {
			return raw, false, ""
		}
		s = dec
	}
	if strings.TrimSpace(s) == "" {
		return raw, false, ""
	}
	var res []byte
	switch step {
	case StepEmail:
		e, ok := Email(s)
		if !ok {
			return raw, false, "not an email address"
		}
		if plain && e == s {
			return raw, false, "" // already clean: most values are
		}
		res = quote(e)
	case StepPhone:
		e, ok := vc.phones.Format(s, vc.region)
		if !ok {
			return raw, false, phoneProblem(vc.region)
		}
		if plain && e == s {
			return raw, false, ""
		}
		res = quote(e)
	case StepName:
		n := Name(s)
		if plain && n == s {
			return raw, false, ""
		}
		res = quote(n)
	case StepCountry:
		c, ok := Country(s)
		if !ok {
			return raw, false, "not a country name or code"
		}
		if plain && c == s {
			return raw, false, ""
		}
		res = quote(c)
	case StepDate:
		t, dateOnly, ok := Time(s)
		if !ok {
			return raw, false, "not a date or time"
		}
		res = quote(FormatTime(t, dateOnly))
	case StepNumber:
		f, ok := Number(s)
		if !ok {
			return raw, false, "not a number"
		}
		res = strconv.AppendFloat(nil, f, 'f', -1, 64)
	case StepBoolean:
		b, ok := Bool(s)
		if !ok {
			return raw, false, ""
		}
		res = strconv.AppendBool(nil, b)
	default:
		return raw, false, ""
	}
	if string(res) == string(raw) {
		return raw, false, ""
	}
	return res, true, ""
}

func phoneProblem(region string) string {
	if region == "" {
		return "not a valid international phone number (no default region is set for numbers without a country code)"
	}
	return "not a valid phone number for region " + region
}

// quote returns s as a JSON string, as encoding/json writes it.
func quote(s string) []byte {
	return appendQuote(make([]byte, 0, len(s)+2), s)
}

// appendQuote appends s as a JSON string, as encoding/json writes it.
// Cleaned values are nearly always plain ASCII, which is copied without
// the encoder (profiling showed json.Marshal dominating the cleaner's
// cost).
func appendQuote(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// changeSet collects the changes of one message. Its memory comes from a
// pool at the first change: an import's every row has a few, and
// allocating the list, the record and the rewritten objects for each was
// a quarter of an import's allocations; most browser events have none.
type changeSet struct {
	list []Change
	sc   *scratch
}

// scratch is the memory of a changeSet, reused across messages.
type scratch struct {
	changes []Change
	arena   []byte
}

var scratchPool = sync.Pool{New: func() any { return &scratch{changes: make([]Change, 0, 8)} }}

// add appends c to the changes.
func (cs *changeSet) add(c Change) {
	if cs.sc == nil {
		cs.sc = scratchPool.Get().(*scratch)
		cs.list = cs.sc.changes[:0]
	}
	cs.list = append(cs.list, c)
}

// room returns an empty buffer of capacity n from the set's memory,
// valid until release (appending past n moves it out); only a set with
// changes has memory.
func (cs *changeSet) room(n int) []byte {
	if cs.sc == nil {
		return make([]byte, 0, n)
	}
	a := cs.sc.arena
	if cap(a)-len(a) < n {
		a = make([]byte, 0, max(2*cap(a), n, 4096)) // what was handed out keeps the old array
	}
	cs.sc.arena = a[:len(a)+n]
	return a[len(a) : len(a) : len(a)+n]
}

// release gives the set's memory back for the next message; nothing it
// handed out may be used after.
func (cs *changeSet) release() {
	if cs.sc == nil {
		return
	}
	clear(cs.list)
	cs.sc.changes = cs.list[:0]
	cs.sc.arena = cs.sc.arena[:0]
	if cap(cs.sc.arena) > 1<<20 {
		cs.sc.arena = nil // a rare huge message's
	}
	scratchPool.Put(cs.sc)
	cs.sc, cs.list = nil, nil
}

// maxNest is how deep cleaning looks into nested objects (traits.address
// .country): deep enough for addresses, shallow enough to stay cheap.
const maxNest = 2

// object cleans the members of the object raw at path, returning the new
// object, or raw itself when nothing changed.
func (vc *valueCleaner) object(path string, raw []byte, depth int, cs *changeSet) []byte {
	ms, ok := members(raw, make([]member, 0, memberHint))
	if !ok {
		return raw
	}
	return vc.objectMembers(path, raw, ms, depth, cs)
}

// objectMembers is object for the object raw already split into ms.
func (vc *valueCleaner) objectMembers(path string, raw []byte, ms []member, depth int, cs *changeSet) []byte {
	changed := false
	for i := range ms {
		m := &ms[i]
		if len(m.Val) > 0 && m.Val[0] == '{' && depth < maxNest {
			if nv := vc.object(path+"."+string(m.Key), m.Val, depth+1, cs); &nv[0] != &m.Val[0] {
				m.Val, changed = nv, true
			}
			continue
		}
		// The key as a temporary string: most keys name no step, and
		// need no copy of their own.
		step := stepFor(string(m.Key))
		if step == "" {
			continue
		}
		name := string(m.Key)
		nv, ch, problem := vc.value(step, m.Val)
		switch {
		case ch:
			cs.add(Change{Field: path + "." + name, Step: step, Original: m.Val})
			m.Val, changed = nv, true
		case problem != "":
			cs.add(Change{Field: path + "." + name, Step: step, Problem: problem})
		}
	}
	if !changed {
		return raw
	}
	// Cleaned values are rarely longer than the originals: one buffer of
	// the object's size, not the doublings of an empty one.
	return writeObject(cs.room(len(raw)+64), ms)
}

// message cleans a normalised message: traits, properties and
// context.traits. It returns msg itself when nothing was changed or
// noted; otherwise a new message whose context.cleaning lists the changes.
func (vc *valueCleaner) message(msg []byte) []byte {
	var bufs [len(messageObjects)][memberHint]member
	top, subs, ok := splitMessage(msg, make([]member, 0, memberHint),
		[len(messageObjects)][]member{bufs[0][:0], bufs[1][:0], bufs[2][:0]})
	if !ok {
		return msg
	}
	return vc.messageSplit(msg, top, func(i int) ([]member, bool) {
		for _, s := range subs {
			if s.index == i {
				return s.ms, true
			}
		}
		return nil, false
	})
}

// messageSplit is message for msg split into its top-level members top;
// split(i) gives the members of top[i]'s object when they were split
// already, and false when messageSplit must split it.
func (vc *valueCleaner) messageSplit(msg []byte, top []member, split func(i int) ([]member, bool)) []byte {
	var cs changeSet
	defer cs.release()
	ctx := -1
	for i := range top {
		m := &top[i]
		switch string(m.Key) {
		case "traits", "properties":
			if ms, ok := split(i); ok {
				m.Val = vc.objectMembers(string(m.Key), m.Val, ms, 0, &cs)
			} else {
				m.Val = vc.object(string(m.Key), m.Val, 0, &cs)
			}
		case "context":
			ctx = i
		}
	}
	// The context is split once, for its traits, its address and the
	// record of changes.
	var cms []member
	ctxChanged := false
	if ctx >= 0 {
		ok := false
		if cms, ok = split(ctx); !ok {
			cms, ok = members(top[ctx].Val, make([]member, 0, memberHint))
		}
		if ok {
			ctxChanged = vc.contextTraits(cms, -1, nil, &cs)
			var enriched bool
			cms, enriched = vc.contextIP(cms)
			ctxChanged = ctxChanged || enriched
		}
	}
	if len(cs.list) == 0 {
		if !ctxChanged {
			return msg
		}
		return writeWithContext(make([]byte, 0, len(msg)+160), top, ctx, cms)
	}
	rec := appendChanges(cs.room(96*len(cs.list)), cs.list)
	cleaning := member{Key: []byte("cleaning"), Val: rec}
	if ctx < 0 {
		top = append(top, member{Key: []byte("context"), Val: writeObject(nil, []member{cleaning})})
		return writeObject(make([]byte, 0, len(msg)+len(rec)+32), top)
	}
	return writeWithContext(make([]byte, 0, len(msg)+len(rec)+176), top, ctx, append(cms, cleaning))
}

// writeWithContext appends the message of the members top, with the
// context (top[ctx]) written from its members cms: one pass and one
// buffer, instead of writing the context and then copying it into the
// message, which showed in profiles as much as the cleaning itself.
func writeWithContext(dst []byte, top []member, ctx int, cms []member) []byte {
	dst = append(dst, '{')
	for i, m := range top {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, m.Key...)
		dst = append(dst, '"', ':')
		if i == ctx {
			dst = writeObject(dst, cms)
		} else {
			dst = append(dst, m.Val...)
		}
	}
	return append(dst, '}')
}

// appendChanges appends changes as json.Marshal writes them, without its
// reflection: every imported row has a few changes, and encoding them was
// a tenth of an import's CPU. Originals with characters json.Marshal
// escapes (HTML, line separators) go through it; originals are always
// JSON strings, so there is nothing to compact.
func appendChanges(dst []byte, changes []Change) []byte {
	for _, c := range changes {
		if marshalEscapes(c.Original) {
			b, _ := json.Marshal(changes)
			return append(dst, b...)
		}
	}
	dst = append(dst, '[')
	for i, c := range changes {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"field":`...)
		dst = appendQuote(dst, c.Field)
		dst = append(dst, `,"step":`...)
		dst = appendQuote(dst, c.Step)
		if len(c.Original) > 0 {
			dst = append(dst, `,"original":`...)
			dst = append(dst, c.Original...)
		}
		if c.Problem != "" {
			dst = append(dst, `,"problem":`...)
			dst = appendQuote(dst, c.Problem)
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// marshalEscapes reports whether b holds a character json.Marshal escapes
// inside a valid JSON string: '<', '>', '&', U+2028 or U+2029 (whose UTF-8
// starts with 0xE2 0x80). It is bytes.ContainsAny(b, "<>&\u2028\u2029")
// without its rune-set path, which took a twentieth of an import's CPU.
func marshalEscapes(b []byte) bool {
	for i, c := range b {
		switch c {
		case '<', '>', '&':
			return true
		case 0xE2:
			if i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xA8 || b[i+2] == 0xA9) {
				return true
			}
		}
	}
	return false
}

// contextTraits cleans context.traits, where track calls carry a user's
// email and phone, in the context's members cms; it reports whether it
// changed them. tms, if not nil, are the members of cms[ti]'s object,
// split already.
func (vc *valueCleaner) contextTraits(cms []member, ti int, tms []member, cs *changeSet) bool {
	for i := range cms {
		if string(cms[i].Key) == "traits" {
			var nv []byte
			if i == ti && tms != nil {
				nv = vc.objectMembers("context.traits", cms[i].Val, tms, 0, cs)
			} else {
				nv = vc.object("context.traits", cms[i].Val, 0, cs)
			}
			if len(nv) > 0 && len(cms[i].Val) > 0 && &nv[0] != &cms[i].Val[0] {
				cms[i].Val = nv
				return true
			}
		}
	}
	return false
}
