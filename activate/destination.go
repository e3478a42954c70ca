package activate

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// Destination statuses.
const (
	StatusActive   = "active"
	StatusPaused   = "paused"   // by a user; messages queue up
	StatusDisabled = "disabled" // by a 410 answer; messages queue up
)

// Purposes a destination can declare.
var Purposes = []string{"analytics", "marketing", "advertising", "personalisation", "functional"}

// Destination is a configured destination.
type Destination struct {
	ID           string
	Name         string
	Type         string
	Status       string
	StatusReason string
	Settings     Settings
	// Secret signs webhooks (whsec_…); shown once, at creation.
	Secret    string
	Purposes  []string
	Audiences []string
	Events    *EventFilter
	Mapping   Mapping
	// Horizons holds, per subscribed audience (as given), the last change
	// ID the snapshot on connect covered: earlier changes are not sent.
	Horizons  map[string]int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// EventFilter selects the events a destination receives: from these
// sources (all if empty) with these names (all if empty). A track event's
// name is its event; other types' name is their type (page, identify…).
type EventFilter struct {
	Sources []string `json:"sources,omitempty"`
	Names   []string `json:"names,omitempty"`
}

// Mapping chooses what of an event goes out.
type Mapping struct {
	// Traits and Properties list the names kept (all if empty).
	Traits     []string `json:"traits,omitempty"`
	Properties []string `json:"properties,omitempty"`
	// Hash lists fields replaced by the hex SHA-256 of their normalised
	// value: "email", "phone".
	Hash []string `json:"hash,omitempty"`
}

// storedConfig is the JSON in store.Destination.Config.
type storedConfig struct {
	Settings  map[string]any   `json:"settings"`
	Secret    string           `json:"secret,omitempty"`
	Purposes  []string         `json:"purposes"`
	Audiences []string         `json:"audiences,omitempty"`
	Events    *EventFilter     `json:"events,omitempty"`
	Mapping   Mapping          `json:"mapping"`
	Horizons  map[string]int64 `json:"horizons,omitempty"`
}

// toStore returns d as the store keeps it.
func (d *Destination) toStore() (*store.Destination, error) {
	cfg, err := json.Marshal(storedConfig{Settings: storable(d.Settings), Secret: d.Secret, Purposes: d.Purposes,
		Audiences: d.Audiences, Events: d.Events, Mapping: d.Mapping, Horizons: d.Horizons})
	if err != nil {
		return nil, err
	}
	return &store.Destination{ID: d.ID, Name: d.Name, Type: d.Type, Status: d.Status, StatusReason: d.StatusReason,
		Config: cfg, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}, nil
}

// fromStore decodes a stored destination with kinds' specs.
func fromStore(sd *store.Destination, kinds Kinds) (*Destination, error) {
	var cfg storedConfig
	if err := json.Unmarshal(sd.Config, &cfg); err != nil {
		return nil, fmt.Errorf("destination %s: config: %w", sd.ID, err)
	}
	d := &Destination{ID: sd.ID, Name: sd.Name, Type: sd.Type, Status: sd.Status, StatusReason: sd.StatusReason,
		Secret: cfg.Secret, Purposes: cfg.Purposes, Audiences: cfg.Audiences, Events: cfg.Events, Mapping: cfg.Mapping,
		Horizons: cfg.Horizons, CreatedAt: sd.CreatedAt, UpdatedAt: sd.UpdatedAt}
	k, ok := kinds[sd.Type]
	if !ok {
		return nil, fmt.Errorf("destination %s: type %q is not available in this build", sd.ID, sd.Type)
	}
	s, err := ParseSettings(sd.Type, fullSpec(k), cfg.Settings)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", sd.ID, err)
	}
	d.Settings = s
	return d, nil
}

// Input is what a user gives to create or replace a destination.
type Input struct {
	Name      string         `json:"name"`
	Type      string         `json:"type"`
	Settings  map[string]any `json:"settings"`
	Purposes  []string       `json:"purposes"`
	Audiences []string       `json:"audiences,omitempty"`
	Events    *EventFilter   `json:"events,omitempty"`
	Mapping   *Mapping       `json:"mapping,omitempty"`
}

// maxNameLen bounds a destination name so lists stay readable.
const maxNameLen = 100

// validate checks in and returns its typed settings.
func (in *Input) validate(kinds Kinds) (Settings, error) {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		return nil, mosaic.Errorf(mosaic.EINVALID, `A destination needs a name, e.g. {"name": "crm hook", "type": "webhook", ...}.`)
	case utf8.RuneCountInString(in.Name) > maxNameLen:
		return nil, mosaic.Errorf(mosaic.EINVALID, "A destination name can have at most %d characters.", maxNameLen)
	case strings.ContainsFunc(in.Name, func(r rune) bool { return r < ' ' }):
		return nil, mosaic.Errorf(mosaic.EINVALID, "A destination name cannot contain control characters.")
	}
	k, ok := kinds[in.Type]
	if !ok {
		return nil, mosaic.Errorf(mosaic.EINVALID, "Unknown destination type %q: use one of %s.", in.Type, strings.Join(kinds.Names(), ", "))
	}
	if len(in.Purposes) == 0 {
		return nil, mosaic.Errorf(mosaic.EINVALID, `A destination must declare the purposes its data is used for, e.g. "purposes": ["marketing"]; known purposes: %s.`, strings.Join(Purposes, ", "))
	}
	for _, p := range in.Purposes {
		if p == "" || strings.ContainsAny(p, ", ") {
			return nil, mosaic.Errorf(mosaic.EINVALID, "Purpose %q: a purpose is one word, such as marketing.", p)
		}
	}
	if in.Events == nil && len(in.Audiences) == 0 {
		return nil, mosaic.Errorf(mosaic.EINVALID, `A destination needs something to receive: "events": {"sources": [...], "names": [...]} and/or "audiences": [...].`)
	}
	if in.Mapping != nil {
		for _, h := range in.Mapping.Hash {
			if h != "email" && h != "phone" {
				return nil, mosaic.Errorf(mosaic.EINVALID, `Mapping: "hash" takes "email" and "phone", not %q.`, h)
			}
		}
	}
	return ParseSettings(in.Type, fullSpec(k), in.Settings)
}

// newSecret returns a Standard Webhooks signing secret: whsec_ and 32
// random bytes in base64.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails on supported platforms
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// View is a destination as the API shows it: secret settings redacted,
// the signing secret only when just created.
type View struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Type         string         `json:"type"`
	Status       string         `json:"status"`
	StatusReason string         `json:"status_reason,omitempty"`
	Settings     map[string]any `json:"settings"`
	Secret       string         `json:"secret,omitempty"`
	Purposes     []string       `json:"purposes"`
	Audiences    []string       `json:"audiences,omitempty"`
	Events       *EventFilter   `json:"events,omitempty"`
	Mapping      Mapping        `json:"mapping"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
}

func (d *Destination) view(kinds Kinds, withSecret bool) *View {
	v := &View{ID: d.ID, Name: d.Name, Type: d.Type, Status: d.Status, StatusReason: d.StatusReason,
		Settings: Public(fullSpec(kinds[d.Type]), d.Settings), Purposes: d.Purposes, Audiences: d.Audiences,
		Events: d.Events, Mapping: d.Mapping, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	if withSecret {
		v.Secret = d.Secret
	}
	return v
}
