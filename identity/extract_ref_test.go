package identity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mosaic-cdp/mosaic"
)

// The message reader Extract used before it walked messages with
// jsonscan, kept as the reference its replacement is held to
// (FuzzExtractReader): the same identifiers and drops for every message
// that is valid JSON.

func refSkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// refValueEnd returns the index just after the value that starts at b[i].
func refValueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errMalformed
	}
	switch b[i] {
	case '"':
		return refStringEnd(b, i)
	case '{', '[':
		return refNestedEnd(b, i)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' &&
		b[j] != '\t' && b[j] != '\n' && b[j] != '\r' && b[j] != ':' && b[j] != '"' {
		j++
	}
	if j == i {
		return 0, errMalformed
	}
	return j, nil
}

// refStringEnd returns the index just after the string that starts at b[i].
// It jumps from quote to quote (bytes.IndexByte is vectorised) and checks
// whether each is escaped.
func refStringEnd(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			break
		}
		j += k
		backslashes := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return j + 1, nil
		}
	}
	return 0, errMalformed
}

// refNestedEnd returns the index just after the object or array at b[i].
func refNestedEnd(b []byte, i int) (int, error) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch refStructural[b[j]] {
		case 0:
		case '"':
			e, err := refStringEnd(b, j)
			if err != nil {
				return 0, err
			}
			j = e - 1
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, errMalformed
}

// refStructural maps the bytes refNestedEnd cares about: quotes, and openers and
// closers (both kinds of bracket alike); others map to 0.
var refStructural = func() (t [256]byte) {
	t['"'] = '"'
	t['{'], t['['] = '{', '{'
	t['}'], t[']'] = '}', '}'
	return t
}()

// refMembers iterates over an object's members.
type refMembers struct {
	b   []byte
	i   int
	err error
}

// refObjectMembers starts iterating over v, which should be an object. ok is
// false when v is not an object (null, a string …), which callers treat as
// absent.
func refObjectMembers(v []byte) (refMembers, bool) {
	if len(v) < 2 || v[0] != '{' {
		return refMembers{}, false
	}
	return refMembers{b: v, i: 1}, true
}

// next returns the next member's raw key (quotes included) and raw value.
func (m *refMembers) next() (key, val []byte, ok bool) {
	if m.err != nil || m.b == nil {
		return nil, nil, false
	}
	i := refSkipSpace(m.b, m.i)
	if i < len(m.b) && m.b[i] == ',' {
		i = refSkipSpace(m.b, i+1)
	}
	if i >= len(m.b) {
		m.err = errMalformed // no closing brace
		return nil, nil, false
	}
	if m.b[i] == '}' {
		return nil, nil, false
	}
	if m.b[i] != '"' {
		m.err = errMalformed
		return nil, nil, false
	}
	ke, err := refStringEnd(m.b, i)
	if err != nil {
		m.err = err
		return nil, nil, false
	}
	key = m.b[i:ke]
	j := refSkipSpace(m.b, ke)
	if j >= len(m.b) || m.b[j] != ':' {
		m.err = errMalformed
		return nil, nil, false
	}
	j = refSkipSpace(m.b, j+1)
	ve, err := refValueEnd(m.b, j)
	if err != nil {
		m.err = err
		return nil, nil, false
	}
	m.i = ve
	return key, m.b[j:ve], true
}

// refArrayElements iterates over an array's elements.
func refArrayElements(v []byte, fn func(elem []byte)) error {
	if len(v) < 2 || v[0] != '[' {
		return nil
	}
	i := 1
	for {
		i = refSkipSpace(v, i)
		if i < len(v) && v[i] == ',' {
			i = refSkipSpace(v, i+1)
		}
		if i >= len(v) || v[i] == ']' {
			return nil
		}
		e, err := refValueEnd(v, i)
		if err != nil {
			return err
		}
		fn(v[i:e])
		i = e
	}
}

// refKeyText returns a raw key (with quotes) without them, decoded if it
// has escapes (rare; that allocates). Callers switch on string(refKeyText(k)),
// which does not allocate.
func refKeyText(key []byte) []byte {
	in := key[1 : len(key)-1]
	if bytes.IndexByte(in, '\\') < 0 {
		return in
	}
	s, _ := jsonString(key)
	return []byte(s)
}

func (m *message) refRead(b []byte) error {
	i := refSkipSpace(b, 0)
	top, ok := refObjectMembers(b[i:])
	if !ok {
		return errMalformed
	}
	for k, v, ok := top.next(); ok; k, v, ok = top.next() {
		switch string(refKeyText(k)) {
		case "type":
			m.typ = v
		case "userId":
			m.userID = v
		case "anonymousId":
			m.anonymousID = v
		case "previousId":
			m.previousID = v
		case "traits":
			m.traits = v
		case "context":
			m.context = v
		}
	}
	if top.err != nil {
		return top.err
	}
	return m.refReadContext()
}

func (m *message) refReadContext() error {
	ctx, ok := refObjectMembers(m.context)
	if !ok {
		return nil
	}
	for k, v, ok := ctx.next(); ok; k, v, ok = ctx.next() {
		switch string(refKeyText(k)) {
		case "traits":
			m.ctxTraits = v
		case "device":
			m.device = v
		case "externalIds":
			m.externalIDs = v
		}
	}
	if ctx.err != nil {
		return ctx.err
	}
	dev, ok := refObjectMembers(m.device)
	if !ok {
		return nil
	}
	for k, v, ok := dev.next(); ok; k, v, ok = dev.next() {
		switch string(refKeyText(k)) {
		case "id":
			m.deviceID = v
		case "advertisingId":
			m.advertisingID = v
		case "adTrackingEnabled":
			m.adTracking = v
		}
	}
	return dev.err
}

// refTraitIDs adds the identifiers of a traits object: email, phone and the
// configured trait names.
func refTraitIDs(x *Extractor, traits []byte) {
	it, ok := refObjectMembers(traits)
	if !ok {
		return
	}
	var email, phone []byte
	custom := x.custom[:0]
	for range x.traits {
		custom = append(custom, nil)
	}
	x.custom = custom
	for k, v, ok := it.next(); ok; k, v, ok = it.next() {
		name := refKeyText(k)
		switch string(name) {
		case "email":
			email = v
		case "phone":
			phone = v
		}
		for i, t := range x.traits {
			if string(name) == t.name {
				custom[i] = v
			}
		}
	}
	x.id(TypeEmail, email)
	x.id(TypePhone, phone)
	for i, t := range x.traits {
		x.id(t.typ, custom[i])
	}
}

// refExternalIDs adds context.externalIds items (Segment's convention:
// {"id", "type", "collection", "encoding"}) of the users collection.
func refExternalIDs(x *Extractor, v []byte) {
	x.extIDs = x.extIDs[:0]
	_ = refArrayElements(v, func(e []byte) { x.extIDs = append(x.extIDs, e) })
	for _, e := range x.extIDs {
		it, ok := refObjectMembers(e)
		if !ok {
			continue
		}
		var id, typ, coll []byte
		for k, v, ok := it.next(); ok; k, v, ok = it.next() {
			switch string(refKeyText(k)) {
			case "id":
				id = v
			case "type":
				typ = v
			case "collection":
				coll = v
			}
		}
		x.externalID(id, typ, coll)
	}
}

func refExtractOld(x *Extractor, ev *mosaic.Event) ([]Identifier, []Dropped, error) {
	x.ids, x.drops = x.ids[:0], x.drops[:0]
	var m message
	if err := m.refRead(ev.Message); err != nil {
		return nil, nil, fmt.Errorf("identity: event %d: %w", ev.Seq, err)
	}
	refFromMessage(x, ev.Type, &m)
	return x.ids, x.drops, nil
}

// refFromMessage extracts from the raw fields of a message; callType is the
// event's type, or "" to read the message's.
func refFromMessage(x *Extractor, callType string, m *message) {
	typ := callType
	if typ == "" {
		typ, _ = jsonString(m.typ)
	}
	x.id(TypeUserID, m.userID)
	x.id(TypeAnonymousID, m.anonymousID)
	if typ == mosaic.TypeAlias {
		x.id(TypePreviousID, m.previousID)
	}
	if typ == mosaic.TypeIdentify {
		refTraitIDs(x, m.traits)
	}
	refTraitIDs(x, m.ctxTraits)
	x.id(TypeDeviceID, m.deviceID)
	if string(m.adTracking) == "false" && m.advertisingID != nil {
		x.drop(TypeAdvertisingID, m.advertisingID, DropAdTracking)
	} else {
		x.id(TypeAdvertisingID, m.advertisingID)
	}
	refExternalIDs(x, m.externalIDs)
}

// FuzzExtractReader holds Extract to the reader it replaced: on every
// message that is valid JSON, the same identifiers, the same drops (values
// included) and the same error; on anything else, no panic.
func FuzzExtractReader(f *testing.F) {
	for _, ev := range loadMessages(f) {
		f.Add(ev.Message, ev.Type)
	}
	for _, s := range []string{
		`{"type":"identify","userId":"u1","traits":{"email":"J@Mosaic.dev","phone":"06 12345678","crm":"C1"},"traits":{"email":"k@mosaic.dev"}}`,
		`{"context":{"device":{"id":"D1","advertisingId":"AD","adTrackingEnabled":false}},"context":{"traits":{"email":"x@mosaic.dev"}}}`,
		`{"context":{"device":{"id":"D1"},"device":null,"device":{"advertisingId":"A2"}},"userId":7.0}`,
		`{"context":{"externalIds":[{"id":"s1","type":"Shop_ID","collection":"users"},{"id":2,"type":"x","collection":"accounts"}]}}`,
		`{"\u0063ontext":{"d\u0065vice":{"\u0069d":"D"}},"user\u0049d":"u\"q"}`,
		` { "context" : { "device" : { "id" : "D" } , "traits" : { "email" : "a@b.c" } } , "anonymousId" : "a" } `,
		`{"context":"none","context":{"device":[{"id":"x"}]},"previousId":"p","type":"alias"}`,
	} {
		f.Add([]byte(s), "")
	}
	cfg := ExtractConfig{DefaultRegion: "NL", TraitIdentifiers: map[string]string{"crm": "crm_id", "mail": TypeEmail}}
	x, err := NewExtractor(cfg)
	if err != nil {
		f.Fatal(err)
	}
	ref, _ := NewExtractor(cfg)
	f.Fuzz(func(t *testing.T, msg []byte, callType string) {
		ev := &mosaic.Event{Seq: 1, Type: callType, Message: msg}
		got, drops, err := x.Extract(ev)
		checkNormalised(t, got)
		if !json.Valid(msg) {
			return
		}
		want, wantDrops, wantErr := refExtractOld(ref, ev)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("Extract(%q) error = %v, old reader's %v", msg, err, wantErr)
		}
		if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("Extract(%q) differs from the old reader (-old +new):\n%s", msg, d)
		}
		if d := cmp.Diff(wantDrops, drops, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("Extract(%q) drops differ from the old reader (-old +new):\n%s", msg, d)
		}
	})
}
