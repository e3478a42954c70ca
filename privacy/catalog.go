package privacy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// The purposes live in the store, so they can change while Mosaic runs
// (POST and DELETE /api/v1/privacy/purposes) and every node sharing a
// database reads one list. The --purposes flag seeds them (SeedPurposes):
// on the first start, and again whenever the flag's value changes; while
// the flag stays as it was, changes made through the API are kept across
// restarts.

// FlagSetting is the setting that remembers the --purposes list last
// applied, so a restart with the same flag keeps runtime changes.
const FlagSetting = "privacy.purposes_flag"

// maxDescription bounds a purpose's description.
const maxDescription = 500

// IsBuiltIn reports whether name is one of the purposes Mosaic ships
// with (DefaultPurposes), whose consent signals it maps.
func IsBuiltIn(name string) bool {
	return slices.ContainsFunc(DefaultPurposes(), func(p Purpose) bool { return p.Name == name })
}

// SeedStore is what SeedPurposes needs: the purposes and the setting
// that remembers the flag.
type SeedStore interface {
	store.PurposeStore
	Setting(ctx context.Context, key string) (string, error)
	PutSetting(ctx context.Context, key, value string) error
}

// SeedPurposes makes the stored purposes follow the --purposes flag and
// returns them. A flag that differs from the one last applied replaces
// the stored list (the purposes added through the API since included);
// an empty flag, or the same one again, keeps the stored list. With
// nothing stored yet, the flag's list, or DefaultPurposes, is stored.
func SeedPurposes(ctx context.Context, st SeedStore, flag string, now time.Time) ([]Purpose, error) {
	stored, err := StoredPurposes(ctx, st)
	if err != nil {
		return nil, err
	}
	want, err := ParsePurposes(flag)
	if err != nil {
		return nil, fmt.Errorf("--purposes: %w", err)
	}
	canon := ""
	if strings.TrimSpace(flag) != "" {
		canon = FormatPurposes(want)
	}
	last, err := st.Setting(ctx, FlagSetting)
	if err != nil && mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		return nil, fmt.Errorf("privacy: read the purposes flag last applied: %w", err)
	}
	if len(stored) > 0 && (canon == "" || canon == last) {
		return stored, nil
	}
	rows := make([]*store.Purpose, len(want))
	for i, p := range want {
		rows[i] = &store.Purpose{Name: p.Name, Description: p.Description, Granted: p.Default, CreatedAt: now.UTC()}
	}
	if err := st.ReplacePurposes(ctx, rows); err != nil {
		return nil, fmt.Errorf("privacy: store the purposes: %w", err)
	}
	if canon != "" {
		if err := st.PutSetting(ctx, FlagSetting, canon); err != nil {
			return nil, fmt.Errorf("privacy: remember the purposes flag: %w", err)
		}
	}
	return want, nil
}

// FormatPurposes writes list in the form of the --purposes flag.
func FormatPurposes(list []Purpose) string {
	parts := make([]string, len(list))
	for i, p := range list {
		parts[i] = p.Name
		if p.Default {
			parts[i] += ":granted"
		}
	}
	return strings.Join(parts, ",")
}

// StoredPurposes reads the purposes from the store; empty before
// SeedPurposes ran.
func StoredPurposes(ctx context.Context, st store.PurposeStore) ([]Purpose, error) {
	rows, err := st.Purposes(ctx)
	if err != nil {
		return nil, fmt.Errorf("privacy: read the purposes: %w", err)
	}
	out := make([]Purpose, len(rows))
	for i, r := range rows {
		out[i] = Purpose{Name: r.Name, Default: r.Granted, Description: r.Description}
	}
	return out, nil
}

// NewPurposeConfig returns the consent configuration for list, with every
// purpose granted by default when grantAll is set (--consent-default
// grant, an opt-out regime).
func NewPurposeConfig(list []Purpose, grantAll bool) (*Config, error) {
	list = slices.Clone(list)
	if grantAll {
		for i := range list {
			list[i].Default = true
		}
	}
	return NewConfig(list, nil)
}

// Catalog keeps the purposes in the store and the consent model of this
// node in step with them: a purpose added is accepted by the consent API
// and the consent signals at once, one removed is granted to no one.
type Catalog struct {
	st       store.PurposeStore
	obs      *Observer
	grantAll bool
	now      func() time.Time
	// mu makes reading the store and putting the list in force one step,
	// taken in turns: otherwise a refresh that read the list just before
	// a change could put the old list back after it.
	mu sync.Mutex
}

// NewCatalog returns the catalog of the purposes in st, which it applies
// to obs.
func NewCatalog(st store.PurposeStore, obs *Observer, grantAll bool, now func() time.Time) *Catalog {
	if now == nil {
		now = time.Now
	}
	return &Catalog{st: st, obs: obs, grantAll: grantAll, now: now}
}

// Refresh reads the purposes from the store and puts them in force, so
// that a change made through another node applies here too.
func (c *Catalog) Refresh(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refresh(ctx)
}

func (c *Catalog) refresh(ctx context.Context) error {
	list, err := StoredPurposes(ctx, c.st)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return nil // not seeded: keep what the observer was made with
	}
	cfg, err := NewPurposeConfig(list, c.grantAll)
	if err != nil {
		return fmt.Errorf("privacy: the stored purposes: %w", err)
	}
	if !slices.Equal(cfg.purposes.list, c.obs.config().purposes.list) {
		c.obs.setConfig(cfg)
	}
	return nil
}

// Add stores a new purpose and puts it in force. EINVALID if its name or
// description breaks the rules, ECONFLICT if it exists.
func (c *Catalog) Add(ctx context.Context, p Purpose) error {
	if err := checkNewPurpose(p); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	row := &store.Purpose{Name: p.Name, Description: p.Description, Granted: p.Default, CreatedAt: c.now().UTC()}
	if err := c.st.AddPurpose(ctx, row); err != nil {
		return err
	}
	return c.refresh(ctx)
}

func checkNewPurpose(p Purpose) error {
	if !purposeName.MatchString(p.Name) {
		return mosaic.Errorf(mosaic.EINVALID, "Purpose name %q is not a lower-case identifier: a-z, 0-9 and _, starting with a letter, up to 40 characters, e.g. \"support_chat\".", p.Name)
	}
	if len([]rune(p.Description)) > maxDescription || strings.ContainsFunc(p.Description, unicode.IsControl) {
		return mosaic.Errorf(mosaic.EINVALID, "A purpose's description has up to %d characters and no control characters.", maxDescription)
	}
	return nil
}

// Remove deletes a purpose and puts the change in force. The caller
// checks first that no configuration uses it (package privacy does not
// know audiences and destinations). Necessary can never be removed: it
// is what security and delivering what a person asked for rest on. The
// last purpose cannot be removed either.
func (c *Catalog) Remove(ctx context.Context, name string) error {
	if name == Necessary {
		return mosaic.Errorf(mosaic.ECONFLICT, "The purpose %q can never be removed: security, fraud prevention and delivering what a person asked for rest on it.", Necessary)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	list, err := StoredPurposes(ctx, c.st)
	if err != nil {
		return err
	}
	if len(list) == 1 && list[0].Name == name {
		return mosaic.Errorf(mosaic.ECONFLICT, "Purpose %q is the only one left; add another before removing it.", name)
	}
	if err := c.st.DeletePurpose(ctx, name); err != nil {
		return err
	}
	return c.refresh(ctx)
}

// SignalsFor names the consent signals that decide purpose name besides
// the consent API, as Decision sources: "event" (Segment's
// categoryPreferences), "tcf", "gcm" (Consent Mode) and "gpc".
func (c *Config) SignalsFor(name string) []string {
	var out []string
	if c.mapped[name] {
		out = append(out, SourceEvent)
	}
	for _, m := range tcfPurposes {
		if m.purpose == name {
			out = append(out, SourceTCF)
			break
		}
	}
	for _, m := range consentMode {
		if m.purpose == name {
			out = append(out, SourceGCM)
			break
		}
	}
	if name == SaleSharing {
		out = append(out, SourceGPC)
	}
	return out
}
