package privacy

import (
	"encoding/json"
	"slices"
	"sort"

	"github.com/mosaic-cdp/mosaic"
)

// InternalSource is the source ID of the records Mosaic itself appends to
// the event log (consent set through the API). Collect never gives it to a
// client's events, so only those records can carry an API decision.
const InternalSource = "mosaic:privacy"

// ConsentEvent is the event name of the records the API appends.
const ConsentEvent = "Mosaic Consent Updated"

// DefaultCategories maps Segment consent category IDs to purposes: the
// purposes' own names, Segment's examples and OneTrust's default IDs.
// Categories not listed are ignored, as Segment ignores unknown ones.
func DefaultCategories() map[string][]string {
	m := map[string][]string{
		"Necessary": {Necessary}, "StrictlyNecessary": {Necessary}, "C0001": {Necessary},
		"Analytics": {Analytics}, "Performance": {Analytics}, "C0002": {Analytics},
		"Functional": {Personalisation}, "Personalisation": {Personalisation}, "Personalization": {Personalisation}, "C0003": {Personalisation},
		"Marketing":   {Marketing},
		"Advertising": {Advertising}, "Targeting": {Advertising}, "C0004": {Advertising},
		"DataSharing": {SaleSharing}, "SaleSharing": {SaleSharing},
	}
	for _, p := range DefaultPurposes() {
		m[p.Name] = []string{p.Name}
	}
	return m
}

// consentMode maps Google Consent Mode v2 types to the purposes they
// decide; every type present must be granted for a grant. denyOnly types
// can only withdraw: ad_user_data denied means no data for advertising
// partners (no sale or sharing), but granted is no opt-in to sale.
var consentMode = []struct {
	purpose  string
	types    []string
	denyOnly bool
}{
	{Analytics, []string{"analytics_storage"}, false},
	{Personalisation, []string{"personalization_storage"}, false},
	{Advertising, []string{"ad_storage", "ad_user_data", "ad_personalization"}, false},
	{SaleSharing, []string{"ad_user_data"}, true},
}

// maxSignal bounds the raw signal kept with a decision.
const maxSignal = 2048

func clip(b []byte) string {
	if len(b) > maxSignal {
		b = b[:maxSignal]
	}
	return string(b)
}

// signalMessage is what Signals reads of an event.
type signalMessage struct {
	// GPC is set by collect when the request carried "Sec-GPC: 1"; clients
	// cannot set it (collect drops a client's top-level "gpc").
	GPC     bool `json:"gpc"`
	Context struct {
		Consent json.RawMessage `json:"consent"`
		Traits  traitsTCF       `json:"traits"`
	} `json:"context"`
	Traits traitsTCF `json:"traits"`
	// Mosaic is the decision of an API record; trusted only from
	// InternalSource.
	Mosaic *APIRecord `json:"mosaicConsent"`
}

type traitsTCF struct {
	TCString  string `json:"tcfString"`
	TCString2 string `json:"tcf_string"`
	IABTCF    string `json:"IABTCF_TCString"`
}

func (t traitsTCF) value() string {
	return cmpOr(t.TCString, t.TCString2, t.IABTCF)
}

func cmpOr(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

type consentObject struct {
	CategoryPreferences json.RawMessage   `json:"categoryPreferences"`
	TCString            string            `json:"tcfString"`
	TCString2           string            `json:"tcString"`
	ConsentMode         map[string]string `json:"consentMode"`
	GPC                 bool              `json:"gpc"`
	PolicyVersion       string            `json:"policyVersion"`
}

// APIRecord is the consent decision an API call appends to the log.
type APIRecord struct {
	Purposes      map[string]bool `json:"purposes"`
	Source        string          `json:"source"`
	PolicyVersion string          `json:"policyVersion,omitempty"`
	Actor         string          `json:"actor,omitempty"`
}

// Signals reads an event's consent signals as decisions, in the order to
// apply them: grants before denials within one signal family, and the
// families so that any denial of a purpose in the event wins (explicit
// signals only narrow) and GPC comes last. An unreadable signal is no
// consent: a TC string that does not decode, or is not valid TCF 2.2,
// denies every purpose TCF maps to. Signals never fails: a message that
// is not JSON carries no signal.
func (c *Config) Signals(ev *mosaic.Event) []Decision {
	var m signalMessage
	if json.Unmarshal(ev.Message, &m) != nil {
		return nil
	}
	mk := func(purpose string, granted bool, source, signal string) Decision {
		return Decision{Purpose: purpose, Granted: granted, Time: ev.ReceivedAt, Seq: ev.Seq, Source: source, Signal: signal}
	}
	if m.Mosaic != nil && ev.SourceID == InternalSource {
		return c.apiDecisions(m.Mosaic, mk)
	}
	var out []Decision
	var co consentObject
	if len(m.Context.Consent) > 0 && json.Unmarshal(m.Context.Consent, &co) != nil {
		co = consentObject{} // a consent value that is not an object says nothing
	}
	out = append(out, c.categories(co.CategoryPreferences, mk)...)
	if tc := cmpOr(co.TCString, co.TCString2, m.Context.Traits.value(), m.Traits.value()); tc != "" {
		out = append(out, c.tcf(tc, mk)...)
	}
	out = append(out, c.consentMode(co.ConsentMode, mk)...)
	if (m.GPC || co.GPC) && c.purposes.Has(SaleSharing) {
		signal := "Sec-GPC: 1"
		if !m.GPC {
			signal = "context.consent.gpc: true"
		}
		out = append(out, mk(SaleSharing, false, SourceGPC, signal))
	}
	for i := range out {
		out[i].PolicyVersion = co.PolicyVersion
	}
	return order(out)
}

// order puts grants before denials, keeping GPC last: applied in this
// order, any denial of a purpose in one event wins.
func order(ds []Decision) []Decision {
	rank := func(d Decision) int {
		switch {
		case d.Source == SourceGPC:
			return 2
		case !d.Granted:
			return 1
		}
		return 0
	}
	sort.SliceStable(ds, func(i, j int) bool { return rank(ds[i]) < rank(ds[j]) })
	return ds
}

func (c *Config) apiDecisions(r *APIRecord, mk func(string, bool, string, string) Decision) []Decision {
	raw, _ := json.Marshal(r.Purposes)
	names := make([]string, 0, len(r.Purposes))
	for p := range r.Purposes {
		names = append(names, p)
	}
	slices.Sort(names)
	var out []Decision
	for _, p := range names {
		if !c.purposes.Has(p) {
			continue // a purpose removed from the configuration since
		}
		d := mk(p, r.Purposes[p], cmpOr(r.Source, SourceAPI), string(raw))
		d.Actor = r.Actor
		out = append(out, d)
	}
	for i := range out {
		out[i].PolicyVersion = r.PolicyVersion
	}
	return out
}

// categories applies Segment's rules: an empty object denies every
// purpose a category maps to; categories the event omits count as false;
// unknown categories are ignored. Necessary changes only when a category
// mapped to it is present.
func (c *Config) categories(raw json.RawMessage, mk func(string, bool, string, string) Decision) []Decision {
	var prefs map[string]bool
	if len(raw) == 0 || json.Unmarshal(raw, &prefs) != nil || prefs == nil {
		return nil
	}
	present := map[string]bool{} // purpose → all its present categories true
	for cat, granted := range prefs {
		for _, p := range c.categoryMap[cat] {
			if v, ok := present[p]; ok {
				present[p] = v && granted
			} else {
				present[p] = granted
			}
		}
	}
	var out []Decision
	for _, pu := range c.purposes.list {
		granted, ok := present[pu.Name]
		if !ok && (pu.Name == Necessary || !c.mapped[pu.Name]) {
			continue
		}
		out = append(out, mk(pu.Name, ok && granted, SourceEvent, clip(raw)))
	}
	return out
}

func (c *Config) tcf(s string, mk func(string, bool, string, string) Decision) []Decision {
	tc, err := DecodeTCString(s)
	if err == nil {
		err = tc.Valid22()
	}
	var out []Decision
	if err != nil {
		for _, m := range tcfPurposes {
			if c.purposes.Has(m.purpose) {
				out = append(out, mk(m.purpose, false, SourceTCF, clip([]byte(s))))
			}
		}
		return out
	}
	granted := tc.Purposes()
	for _, m := range tcfPurposes {
		if c.purposes.Has(m.purpose) {
			out = append(out, mk(m.purpose, granted[m.purpose], SourceTCF, clip([]byte(s))))
		}
	}
	return out
}

func (c *Config) consentMode(fields map[string]string, mk func(string, bool, string, string) Decision) []Decision {
	if len(fields) == 0 {
		return nil
	}
	raw, _ := json.Marshal(fields)
	var out []Decision
	for _, m := range consentMode {
		if !c.purposes.Has(m.purpose) {
			continue
		}
		seen, granted := false, true
		for _, t := range m.types {
			if v, ok := fields[t]; ok {
				seen = true
				granted = granted && v == "granted" // anything else is no consent
			}
		}
		if !seen || m.denyOnly && granted {
			continue
		}
		out = append(out, mk(m.purpose, granted, SourceGCM, string(raw)))
	}
	return out
}
