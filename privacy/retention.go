package privacy

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// RetentionDays are the retention periods a source may have, in days; 0
// is unlimited.
var RetentionDays = []int{0, 7, 30, 90, 180, 365}

// SetRetention sets how long a source's raw events are kept.
func (r *Requests) SetRetention(ctx context.Context, sourceID string, days int) error {
	if !slices.Contains(RetentionDays, days) {
		return mosaic.Errorf(mosaic.EINVALID, "Retention must be one of 7, 30, 90, 180 or 365 days, or 0 for unlimited, not %d.", days)
	}
	return r.st.SetRetention(ctx, sourceID, days)
}

// PurgeExpired erases the raw events of every source with a retention
// period that were received more than that period before now, and rebuilds
// the derived state without them (as erasure does). It returns how many
// events it purged. The background job calls it hourly, so events go
// within a day of expiry; tests call it with a clock of their own.
func (r *Requests) PurgeExpired(ctx context.Context, now time.Time) (int, error) {
	ret, err := r.st.Retentions(ctx)
	if err != nil || len(ret) == 0 {
		return 0, err
	}
	cutoffs := map[string]time.Time{}
	for src, days := range ret {
		cutoffs[src] = now.AddDate(0, 0, -days)
	}
	seqs, err := r.env.Expired(ctx, cutoffs)
	if err != nil || len(seqs) == 0 {
		return 0, err
	}
	n, err := r.env.EraseEvents(ctx, func(context.Context) ([]uint64, error) { return seqs, nil })
	if err != nil {
		return n, fmt.Errorf("privacy: purge %d expired events: %w", len(seqs), err)
	}
	r.opts.Log.Info("retention: purged expired events", "events", n)
	return n, nil
}

// Inventory is the record of processing (GDPR Art. 30) Mosaic can draw
// from its own configuration and data.
type Inventory struct {
	GeneratedAt  time.Time         `json:"generated_at"`
	Sources      []InventorySource `json:"sources"`
	Purposes     []Purpose         `json:"purposes"`
	PersonalData []string          `json:"personal_data_traits"`
	OtherTraits  []string          `json:"other_traits"`
	Destinations []any             `json:"destinations"`
	Notes        []string          `json:"notes"`
}

// InventorySource is one source in the inventory.
type InventorySource struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	RetentionDays int    `json:"retention_days"` // 0: unlimited
}

// Inventory draws the record of processing.
func (r *Requests) Inventory(ctx context.Context, sources []*mosaic.Source, purposes []Purpose) (*Inventory, error) {
	ret, err := r.st.Retentions(ctx)
	if err != nil {
		return nil, err
	}
	names, err := r.st.TraitNames(ctx)
	if err != nil {
		return nil, err
	}
	inv := &Inventory{GeneratedAt: r.opts.Now().UTC(), Purposes: purposes, PersonalData: []string{}, OtherTraits: []string{}, Destinations: []any{},
		Notes: []string{"Identifiers (user IDs, anonymous IDs, emails, phones, device IDs) are personal data in every source.",
			"No destinations are configured on this server: no data leaves it."}}
	for _, s := range sources {
		inv.Sources = append(inv.Sources, InventorySource{ID: s.ID, Name: s.Name, RetentionDays: ret[s.ID]})
	}
	for _, n := range names {
		if IsPIITrait(n) {
			inv.PersonalData = append(inv.PersonalData, n)
		} else {
			inv.OtherTraits = append(inv.OtherTraits, n)
		}
	}
	return inv, nil
}
