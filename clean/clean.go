package clean

import (
	"encoding/json"
	"strconv"
	"strings"
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
)

// Steps lists every step, in the order they are documented.
var Steps = []string{StepEmail, StepPhone, StepName, StepCountry, StepDate, StepNumber, StepBoolean}

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
	k := strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == ' ' {
			return -1
		}
		return unicode.ToLower(r)
	}, key)
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
	case strings.HasSuffix(key, "At") || strings.HasSuffix(k, "_at") || strings.HasSuffix(key, "_at"):
		return StepDate
	case isFlagName(key):
		return StepBoolean
	}
	return ""
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
}

// value cleans one raw JSON value for step. It returns the new raw value
// and whether it changed, or a problem when the value was kept as it was.
func (vc *valueCleaner) value(step string, raw []byte) (out []byte, changed bool, problem string) {
	if vc.disabled[step] || len(raw) == 0 || raw[0] != '"' {
		return raw, false, "" // only text is cleaned; numbers and booleans are already typed
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return raw, false, ""
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
		res = quote(e)
	case StepPhone:
		e, ok := vc.phones.Format(s, vc.region)
		if !ok {
			return raw, false, phoneProblem(vc.region)
		}
		res = quote(e)
	case StepName:
		res = quote(Name(s))
	case StepCountry:
		c, ok := Country(s)
		if !ok {
			return raw, false, "not a country name or code"
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

func quote(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// maxNest is how deep cleaning looks into nested objects (traits.address
// .country): deep enough for addresses, shallow enough to stay cheap.
const maxNest = 2

// object cleans the members of the object raw at path, returning the new
// object, or raw itself when nothing changed.
func (vc *valueCleaner) object(path string, raw []byte, depth int, changes *[]Change) []byte {
	ms, ok := members(raw, make([]member, 0, memberHint))
	if !ok {
		return raw
	}
	changed := false
	for i := range ms {
		m := &ms[i]
		name := m.keyName()
		if len(m.val) > 0 && m.val[0] == '{' && depth < maxNest {
			if nv := vc.object(path+"."+name, m.val, depth+1, changes); &nv[0] != &m.val[0] {
				m.val, changed = nv, true
			}
			continue
		}
		step := stepFor(name)
		if step == "" {
			continue
		}
		nv, ch, problem := vc.value(step, m.val)
		switch {
		case ch:
			*changes = append(*changes, Change{Field: path + "." + name, Step: step, Original: m.val})
			m.val, changed = nv, true
		case problem != "":
			*changes = append(*changes, Change{Field: path + "." + name, Step: step, Problem: problem})
		}
	}
	if !changed {
		return raw
	}
	return writeObject(nil, ms)
}

// message cleans a normalised message: traits, properties and
// context.traits. It returns msg itself when nothing was changed or
// noted; otherwise a new message whose context.cleaning lists the changes.
func (vc *valueCleaner) message(msg []byte) []byte {
	top, ok := members(msg, make([]member, 0, memberHint))
	if !ok {
		return msg
	}
	var changes []Change
	ctx := -1
	for i := range top {
		m := &top[i]
		switch m.keyName() {
		case "traits", "properties":
			m.val = vc.object(m.keyName(), m.val, 0, &changes)
		case "context":
			ctx = i
		}
	}
	if ctx >= 0 {
		top[ctx].val = vc.contextTraits(top[ctx].val, &changes)
	}
	if len(changes) == 0 {
		return msg
	}
	rec, _ := json.Marshal(changes)
	cleaning := member{key: []byte(`"cleaning"`), val: rec}
	if ctx < 0 {
		top = append(top, member{key: []byte(`"context"`), val: writeObject(nil, []member{cleaning})})
	} else {
		cms, _ := members(top[ctx].val, make([]member, 0, memberHint))
		top[ctx].val = writeObject(nil, append(cms, cleaning))
	}
	return writeObject(make([]byte, 0, len(msg)+len(rec)+16), top)
}

// contextTraits cleans context.traits, where track calls carry a user's
// email and phone.
func (vc *valueCleaner) contextTraits(raw []byte, changes *[]Change) []byte {
	ms, ok := members(raw, make([]member, 0, memberHint))
	if !ok {
		return raw
	}
	for i := range ms {
		if ms[i].keyName() == "traits" {
			nv := vc.object("context.traits", ms[i].val, 0, changes)
			if len(nv) > 0 && len(ms[i].val) > 0 && &nv[0] != &ms[i].val[0] {
				ms[i].val = nv
				return writeObject(nil, ms)
			}
		}
	}
	return raw
}
