package collect

import "github.com/mosaic-cdp/mosaic"

// field names the top-level message fields that Mosaic reads or rewrites.
// Every other field passes through as it came.
type field uint8

const (
	fOther field = iota
	fType
	fMessageID
	fUserID
	fAnonymousID
	fPreviousID
	fGroupID
	fEvent
	fName
	fCategory
	fTimestamp
	fSentAt
	fOriginalTimestamp
	fReceivedAt
	fContext
	fIntegrations
	fProperties
	fTraits
	fWriteKey
	fGPC
	numFields
)

// fieldNames are the JSON names, for lookups and error messages.
var fieldNames = [numFields]string{
	fType: "type", fMessageID: "messageId", fUserID: "userId", fAnonymousID: "anonymousId",
	fPreviousID: "previousId", fGroupID: "groupId", fEvent: "event", fName: "name",
	fCategory: "category", fTimestamp: "timestamp", fSentAt: "sentAt",
	fOriginalTimestamp: "originalTimestamp", fReceivedAt: "receivedAt", fContext: "context",
	fIntegrations: "integrations", fProperties: "properties", fTraits: "traits",
	fWriteKey: "writeKey", fGPC: "gpc",
}

// fieldOf returns the field a key names. The switch on string(key) does not
// allocate.
func fieldOf(key []byte) field {
	switch string(key) {
	case "type":
		return fType
	case "messageId":
		return fMessageID
	case "userId":
		return fUserID
	case "anonymousId":
		return fAnonymousID
	case "previousId":
		return fPreviousID
	case "groupId":
		return fGroupID
	case "event":
		return fEvent
	case "name":
		return fName
	case "category":
		return fCategory
	case "timestamp":
		return fTimestamp
	case "sentAt":
		return fSentAt
	case "originalTimestamp":
		return fOriginalTimestamp
	case "receivedAt":
		return fReceivedAt
	case "context":
		return fContext
	case "integrations":
		return fIntegrations
	case "properties":
		return fProperties
	case "traits":
		return fTraits
	case "writeKey":
		return fWriteKey
	case "gpc":
		return fGPC
	}
	return fOther
}

// field returns the field m's key names, unescaping the key if needed (so
// "\u0074ype" is "type", as any JSON reader would see it).
func (m *member) field() field {
	if m.keyFlags&flagEscape == 0 {
		return fieldOf(m.key)
	}
	return fieldOf([]byte(unquote(m.key)))
}

// kinds is a set of JSON types.
type kinds uint8

const (
	kString kinds = 1 << iota
	kNumber
	kObject
	kArray
	kBool
	kNull
)

// kindOf returns the JSON type of a validated raw value.
func kindOf(v []byte) kinds {
	switch v[0] {
	case '"':
		return kString
	case '{':
		return kObject
	case '[':
		return kArray
	case 't', 'f':
		return kBool
	case 'n':
		return kNull
	}
	return kNumber
}

// allowed lists the JSON types each field may have; null always means
// "absent". Fields not listed (0) are not checked: originalTimestamp,
// receivedAt, writeKey and gpc are dropped and replaced anyway.
var allowed = [numFields]kinds{
	fType:         kString | kNull,
	fMessageID:    kString | kNull,
	fUserID:       kString | kNumber | kNull, // SDKs may send numeric ids; kept verbatim
	fAnonymousID:  kString | kNumber | kNull,
	fPreviousID:   kString | kNumber | kNull,
	fGroupID:      kString | kNumber | kNull,
	fEvent:        kString | kNull,
	fName:         kString | kNull,
	fCategory:     kString | kNull,
	fTimestamp:    kString | kNull,
	fSentAt:       kString | kNull,
	fContext:      kObject | kNull,
	fIntegrations: kObject | kNull,
	fProperties:   kObject | kNull,
	fTraits:       kObject | kNull,
}

// wantText describes allowed[f] for error messages.
func wantText(k kinds) string {
	switch k {
	case kString | kNull:
		return "a string"
	case kString | kNumber | kNull:
		return "a string or a number"
	}
	return "an object"
}

// fields holds, for each known field, its last occurrence in a message (a
// repeated key means the last one, as for any JSON reader), or nil.
type fields [numFields]*member

// present reports whether f is set to something other than null.
func (fs *fields) present(f field) bool {
	return fs[f] != nil && fs[f].val[0] != 'n'
}

// isID reports whether f holds a usable identifier: a non-empty string or a
// number.
func (fs *fields) isID(f field) bool {
	m := fs[f]
	if m == nil {
		return false
	}
	k := kindOf(m.val)
	return k == kNumber || (k == kString && len(m.val) > 2)
}

// str returns the string value of a field known to hold a string.
func (fs *fields) str(f field) string {
	return stringValue(fs[f])
}

func stringValue(m *member) string {
	raw := m.val[1 : len(m.val)-1]
	if m.flags&flagEscape == 0 {
		return string(raw)
	}
	return unquote(raw)
}

// collectFields indexes a message's members and checks that no key or value
// holds an escape Mosaic refuses, and that every known field has its type.
func collectFields(fs *fields, members []member) *mosaic.Error {
	*fs = fields{}
	for i := range members {
		m := &members[i]
		if bad := m.keyFlags & (flagNUL | flagSurrogate); bad != 0 {
			return mosaic.Errorf(mosaic.EINVALIDFIELD, "A field name %s", badEscapeText(bad))
		}
		f := m.field()
		m.f = f
		if bad := m.flags & (flagNUL | flagSurrogate); bad != 0 {
			return mosaic.Errorf(mosaic.EINVALIDFIELD, "Field %q %s", m.name(), badEscapeText(bad))
		}
		if f == fOther {
			continue
		}
		if want := allowed[f]; want != 0 && kindOf(m.val)&want == 0 {
			return mosaic.Errorf(mosaic.EINVALIDFIELD, "Field %q must be %s, not %s.",
				fieldNames[f], wantText(want), kindName(m.val))
		}
		fs[f] = m
	}
	return nil
}
