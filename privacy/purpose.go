// Package privacy makes privacy a property of Mosaic: consent by purpose,
// with its history and the signals it comes from (Segment's consent object,
// IAB TCF v2.2 strings, Google Consent Mode v2, Global Privacy Control), and
// the one question every outbound flow asks: Granted.
package privacy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The default purposes. Necessary is granted unless denied explicitly; the
// others need a grant (opt-in, as GDPR requires).
const (
	Necessary       = "necessary"
	Analytics       = "analytics"
	Personalisation = "personalisation"
	Marketing       = "marketing"
	Advertising     = "advertising"
	SaleSharing     = "sale_sharing"
)

// Purpose is one reason for processing that a person can consent to.
type Purpose struct {
	Name string `json:"name"`
	// Default is the state when no signal says otherwise: true only for
	// processing that needs no consent (strictly necessary).
	Default bool `json:"default"`
	// Description is shown to people who manage consent.
	Description string `json:"description,omitempty"`
}

// DefaultPurposes returns the purposes Mosaic starts with.
func DefaultPurposes() []Purpose {
	return []Purpose{
		{Name: Necessary, Default: true, Description: "Strictly necessary: security, fraud prevention, delivering what the person asked for."},
		{Name: Analytics, Description: "Measuring and understanding use of sites and apps."},
		{Name: Personalisation, Description: "Personalising content and recommendations."},
		{Name: Marketing, Description: "First-party marketing through owned channels (email, SMS, journeys)."},
		{Name: Advertising, Description: "Selecting, personalising and measuring advertising."},
		{Name: SaleSharing, Description: "Selling or sharing personal data with third parties (CCPA/CPRA)."},
	}
}

var purposeName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// Purposes is a validated set of purposes, in their configured order.
type Purposes struct {
	list  []Purpose
	index map[string]int
}

// NewPurposes checks list: names are lower-case identifiers (a-z, 0-9, _;
// up to 40), unique, and the list is not empty.
func NewPurposes(list []Purpose) (*Purposes, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("privacy: no purposes configured; use DefaultPurposes")
	}
	p := &Purposes{list: slices.Clone(list), index: map[string]int{}}
	for i, pu := range list {
		if !purposeName.MatchString(pu.Name) {
			return nil, fmt.Errorf("privacy: purpose name %q is not a lower-case identifier (a-z, 0-9, _; up to 40 characters, starting with a letter)", pu.Name)
		}
		if _, dup := p.index[pu.Name]; dup {
			return nil, fmt.Errorf("privacy: purpose %q is configured twice", pu.Name)
		}
		p.index[pu.Name] = i
	}
	return p, nil
}

// List returns the purposes in configured order.
func (p *Purposes) List() []Purpose { return slices.Clone(p.list) }

// Has reports whether name is a configured purpose.
func (p *Purposes) Has(name string) bool {
	_, ok := p.index[name]
	return ok
}

// Default returns the purpose's default state; false for unknown ones.
func (p *Purposes) Default(name string) bool {
	i, ok := p.index[name]
	return ok && p.list[i].Default
}

func (p *Purposes) names() string {
	s := ""
	for i, pu := range p.list {
		if i > 0 {
			s += ", "
		}
		s += pu.Name
	}
	return s
}

// DefaultPIITraits are the trait names that hold personal data by default:
// masked for roles without access to it, and searched for in raw payloads
// on erasure (matched as TraitKey makes them).
var DefaultPIITraits = []string{
	"email", "phone", "mobile", "name", "firstName", "lastName", "fullName", "username",
	"address", "street", "postalCode", "zip", "birthday", "birthdate", "dateOfBirth",
	"ip", "ssn", "taxId", "passport", "iban", "avatar",
}

// TraitKey is the form trait names are compared in: lower case, without
// _, - and spaces ("first_name" and "firstName" are one).
func TraitKey(k string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "").Replace(k))
}

// IsPIITrait reports whether name is one of DefaultPIITraits.
func IsPIITrait(name string) bool {
	k := TraitKey(name)
	for _, p := range DefaultPIITraits {
		if TraitKey(p) == k {
			return true
		}
	}
	return false
}
