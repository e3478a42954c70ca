package activate

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// Consent answers whether a profile granted purposes. The delivery workers
// ask it for every message at send time, so a withdrawal also stops
// messages already queued.
type Consent interface {
	// Granted reports whether the profile granted every one of purposes.
	Granted(ctx context.Context, profileKey string, purposes []string) (bool, error)
}

// SignalConsent reads consent from the newest
// context.consent.categoryPreferences seen on a profile's events (Segment's
// convention), which the event forwarder saves. A purpose is granted when
// the preferences map it (case-insensitively) to true. A profile without
// any signal gets Default.
//
// It stands in until the privacy part's consent model replaces it.
type SignalConsent struct {
	Store interface {
		ConsentSignal(ctx context.Context, profileKey string) (*store.ConsentSignal, error)
	}
	// Default is the answer for a profile without a consent signal: false
	// (deny) unless the operator chose otherwise (--consent-default grant).
	Default bool
}

// Granted implements Consent.
func (c SignalConsent) Granted(ctx context.Context, key string, purposes []string) (bool, error) {
	row, err := c.Store.ConsentSignal(ctx, key)
	var me *mosaic.Error
	if errors.As(err, &me) && me.Code == mosaic.ENOTFOUND {
		return c.Default, nil
	}
	if err != nil {
		return false, err
	}
	var prefs map[string]any
	if err := json.Unmarshal(row.Categories, &prefs); err != nil {
		return false, nil // unreadable: deny
	}
	granted := map[string]bool{}
	for k, v := range prefs {
		if b, ok := v.(bool); ok {
			granted[strings.ToLower(k)] = b
		}
	}
	for _, p := range purposes {
		if !granted[strings.ToLower(p)] {
			return false, nil
		}
	}
	return true, nil
}

// missingPurposes returns the purposes c does not grant key.
func missingPurposes(ctx context.Context, c Consent, key string, purposes []string) ([]string, error) {
	ok, err := c.Granted(ctx, key, purposes)
	if err != nil || ok {
		return nil, err
	}
	var missing []string
	for _, p := range purposes {
		ok, err := c.Granted(ctx, key, []string{p})
		if err != nil {
			return nil, err
		}
		if !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 { // granted one by one but not together
		missing = purposes
	}
	return missing, nil
}
