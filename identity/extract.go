package identity

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
	"github.com/nyaruka/phonenumbers"
)

// ExtractConfig says how to read identifiers from events.
type ExtractConfig struct {
	// DefaultRegion is the CLDR region ("NL", "US") of phone numbers written
	// without a country code. Empty: such numbers are dropped, and only
	// numbers starting with '+' are kept. Set from --default-region.
	DefaultRegion string `json:"default_region"`
	// TraitIdentifiers maps trait names to identifier types: with
	// {"crm_id": "crm_id"}, traits.crm_id of identify calls and
	// context.traits.crm_id of any call become crm_id identifiers. Mapping
	// a trait to "email" or "phone" normalises it as one.
	TraitIdentifiers map[string]string `json:"trait_identifiers"`
}

// Validate reports the first problem that makes c unusable.
func (c ExtractConfig) Validate() error {
	if c.DefaultRegion != "" && !phonenumbers.GetSupportedRegions()[c.DefaultRegion] {
		return fmt.Errorf("identity: default region %q is unknown; use an upper-case CLDR region code such as NL or US", c.DefaultRegion)
	}
	for name, t := range c.TraitIdentifiers {
		if name == "" {
			return fmt.Errorf("identity: trait_identifiers has an empty trait name")
		}
		if err := checkTypeName(t); err != nil || t == TypePreviousID {
			return fmt.Errorf("identity: trait %q maps to type %q, which is not a valid identifier type name", name, t)
		}
	}
	return nil
}

// Dropped is a value Extract saw but did not turn into an identifier.
type Dropped struct {
	Type   string `json:"type"`
	Value  string `json:"value"` // as sent, cut to 100 bytes
	Reason string `json:"reason"`
}

// Extractor reads identifiers from events. It keeps scratch space and a
// cache of phone numbers between calls, so one Extractor serves one
// goroutine; the engine's identity stage owns one.
type Extractor struct {
	cfg    ExtractConfig
	phones *phoneNormalizer
	traits []traitIdentifier // sorted by name
	ids    []Identifier
	drops  []Dropped
	extIDs [][]byte
	custom [][]byte
}

type traitIdentifier struct{ name, typ string }

// NewExtractor returns an Extractor for cfg, or cfg's Validate error.
func NewExtractor(cfg ExtractConfig) (*Extractor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	x := &Extractor{cfg: cfg, phones: newPhoneNormalizer(cfg.DefaultRegion)}
	for name, t := range cfg.TraitIdentifiers {
		x.traits = append(x.traits, traitIdentifier{name, t})
	}
	slices.SortFunc(x.traits, func(a, b traitIdentifier) int { return strings.Compare(a.name, b.name) })
	return x, nil
}

// Extract returns the identifiers of ev, using cfg. Engines should keep an
// Extractor instead, which also reports dropped values and caches phones.
func Extract(ev *mosaic.Event, cfg ExtractConfig) ([]Identifier, error) {
	x, err := NewExtractor(cfg)
	if err != nil {
		return nil, err
	}
	ids, _, err := x.Extract(ev)
	return slices.Clone(ids), err
}

// message holds the raw values of the fields Extract reads. Later
// duplicates of a key win, as with encoding/json.
type message struct {
	typ, userID, anonymousID, previousID, traits, context []byte
	ctxTraits, device, externalIDs                        []byte
	deviceID, advertisingID, adTracking                   []byte
}

// Extract returns ev's identifiers, typed and normalised, without
// duplicates, in a fixed order: userId, anonymousId, previousId, the
// identify traits, context.traits, context.device, context.externalIds.
// Values that cannot be identifiers are returned as dropped, with the
// reason. Both slices are only valid until the next call. The error is
// errMalformed when the message is not a JSON object.
func (x *Extractor) Extract(ev *mosaic.Event) ([]Identifier, []Dropped, error) {
	x.ids, x.drops = x.ids[:0], x.drops[:0]
	var m message
	if err := m.read(ev.Message); err != nil {
		return nil, nil, fmt.Errorf("identity: event %d: %w", ev.Seq, err)
	}
	x.fromMessage(ev.Type, &m)
	return x.ids, x.drops, nil
}

// fromMessage extracts from the raw fields of a message; callType is the
// event's type, or "" to read the message's.
func (x *Extractor) fromMessage(callType string, m *message) {
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
		x.traitIDs(m.traits)
	}
	x.traitIDs(m.ctxTraits)
	x.id(TypeDeviceID, m.deviceID)
	if string(m.adTracking) == "false" && m.advertisingID != nil {
		x.drop(TypeAdvertisingID, m.advertisingID, DropAdTracking)
	} else {
		x.id(TypeAdvertisingID, m.advertisingID)
	}
	x.externalIDs(m.externalIDs)
}

func (m *message) read(b []byte) error {
	top, ok := openObject(b, jsonscan.SkipSpace(b, 0))
	if !ok {
		return errMalformed
	}
	for k, ok := top.key(); ok; k, ok = top.key() {
		switch string(k) {
		case "type":
			m.typ = top.value()
		case "userId":
			m.userID = top.value()
		case "anonymousId":
			m.anonymousID = top.value()
		case "previousId":
			m.previousID = top.value()
		case "traits":
			m.traits = top.value()
		case "context":
			// Of repeated keys the last wins, with all it holds.
			m.ctxTraits, m.device, m.externalIDs = nil, nil, nil
			m.deviceID, m.advertisingID, m.adTracking = nil, nil, nil
			if ctx, ok := top.enter(); ok {
				m.readContext(&ctx)
				m.context = top.leave(&ctx)
			} else {
				m.context = top.value()
			}
		default:
			top.value()
		}
	}
	return top.err
}

// readContext reads the members of context up to its closing brace.
func (m *message) readContext(ctx *object) {
	for k, ok := ctx.key(); ok; k, ok = ctx.key() {
		switch string(k) {
		case "traits":
			m.ctxTraits = ctx.value()
		case "device":
			m.deviceID, m.advertisingID, m.adTracking = nil, nil, nil
			if dev, ok := ctx.enter(); ok {
				m.readDevice(&dev)
				m.device = ctx.leave(&dev)
			} else {
				m.device = ctx.value()
			}
		case "externalIds":
			m.externalIDs = ctx.value()
		default:
			ctx.value()
		}
	}
}

// readDevice reads the members of context.device up to its closing brace.
func (m *message) readDevice(dev *object) {
	for k, ok := dev.key(); ok; k, ok = dev.key() {
		switch string(k) {
		case "id":
			m.deviceID = dev.value()
		case "advertisingId":
			m.advertisingID = dev.value()
		case "adTrackingEnabled":
			m.adTracking = dev.value()
		default:
			dev.value()
		}
	}
}

// traitIDs adds the identifiers of a traits object: email, phone and the
// configured trait names.
func (x *Extractor) traitIDs(traits []byte) {
	it, ok := openObject(traits, 0)
	if !ok {
		return
	}
	var email, phone []byte
	custom := x.custom[:0]
	for range x.traits {
		custom = append(custom, nil)
	}
	x.custom = custom
	for name, ok := it.key(); ok; name, ok = it.key() {
		v := it.value()
		if v == nil {
			break
		}
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

// externalIDs adds context.externalIds items (Segment's convention:
// {"id", "type", "collection", "encoding"}) of the users collection.
func (x *Extractor) externalIDs(v []byte) {
	x.extIDs = x.extIDs[:0]
	arrayElements(v, func(e []byte) { x.extIDs = append(x.extIDs, e) })
	for _, e := range x.extIDs {
		it, ok := openObject(e, 0)
		if !ok {
			continue
		}
		var id, typ, coll []byte
		for k, ok := it.key(); ok; k, ok = it.key() {
			v := it.value()
			if v == nil {
				break
			}
			switch string(k) {
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

func (x *Extractor) externalID(id, typ, coll []byte) {
	if c, _ := jsonString(coll); c != "" && c != "users" {
		return // "accounts" ids name a company, not a person
	}
	t, ok := jsonString(typ)
	t = strings.ToLower(strings.TrimSpace(t))
	if !ok || checkTypeName(t) != nil || t == TypePreviousID {
		x.drop(t, id, DropInvalidType)
		return
	}
	x.id(t, id)
}

// id normalises the raw value v as type t and adds it, or records why not.
// A nil or null v is absent and ignored.
func (x *Extractor) id(t string, v []byte) {
	if v == nil || string(v) == "null" {
		return
	}
	s, ok := idText(v)
	if !ok {
		x.drop(t, v, DropNotText)
		return
	}
	var reason string
	switch t {
	case TypeEmail:
		s, reason = normalizeEmail(s)
	case TypePhone:
		s, reason = x.phones.normalize(s)
	}
	if reason == "" {
		s, reason = checkValue(s)
	}
	if reason != "" {
		x.drop(t, v, reason)
		return
	}
	id := Identifier{Type: t, Value: s}
	if !slices.Contains(x.ids, id) {
		x.ids = append(x.ids, id)
	}
}

func (x *Extractor) drop(t string, raw []byte, reason string) {
	v, ok := jsonString(raw)
	if !ok {
		v = string(raw)
	}
	if len(v) > 100 {
		v = v[:100]
	}
	x.drops = append(x.drops, Dropped{Type: t, Value: v, Reason: reason})
}

// Normalize returns id with its value normalised as Extract would, for
// looking identifiers up (an API given "email:Jane@Mosaic.dev" must find
// "jane@mosaic.dev"). The error says why the value can be no identifier.
func (x *Extractor) Normalize(id Identifier) (Identifier, error) {
	if err := checkTypeName(id.Type); err != nil {
		return Identifier{}, err
	}
	v, reason := id.Value, ""
	switch id.Type {
	case TypeEmail:
		v, reason = normalizeEmail(v)
	case TypePhone:
		v, reason = x.phones.normalize(v)
	}
	if reason == "" {
		v, reason = checkValue(v)
	}
	if reason != "" {
		return Identifier{}, fmt.Errorf("identity: %s is not a valid %s (%s)", id.Value, id.Type, reason)
	}
	return Identifier{Type: id.Type, Value: v}, nil
}
