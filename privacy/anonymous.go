package privacy

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
)

// Anonymous profile expiry: a profile known only by anonymous identifiers
// (a browser's or app's anonymousId) that has shown no activity for a
// while is a visitor who never became a customer; keeping their events
// serves no purpose (GDPR Art. 5(1)(e), storage limitation). Such
// profiles expire: their events are erased from the log and all derived
// state is rebuilt without them, as retention does.

// AnonymousTypes are the identifier types that name no one: a profile
// holding only these is anonymous.
var AnonymousTypes = []string{"anonymous_id"}

// DefaultAnonymousExpiry is 13 months, the lifetime European regulators
// accept for an analytics cookie: a visitor unseen for longer than their
// cookie lives will not be recognised again anyway.
var DefaultAnonymousExpiry = Expiry{Months: 13}

// Expiry is a period of inactivity in calendar months and days; zero is
// off.
type Expiry struct {
	Months int
	Days   int
}

// Off reports whether expiry is off.
func (e Expiry) Off() bool { return e.Months == 0 && e.Days == 0 }

// Cutoff is the moment before which a profile's last activity must lie
// for it to expire at now.
func (e Expiry) Cutoff(now time.Time) time.Time { return now.AddDate(0, -e.Months, -e.Days) }

func (e Expiry) String() string {
	switch {
	case e.Off():
		return "off"
	case e.Days == 0:
		return strconv.Itoa(e.Months) + "mo"
	case e.Months == 0:
		return strconv.Itoa(e.Days) + "d"
	}
	return fmt.Sprintf("%dmo%dd", e.Months, e.Days)
}

// ParseExpiry reads "13mo" (months), "400d" (days) or "off" (also "0").
func ParseExpiry(s string) (Expiry, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "off" || s == "0" {
		return Expiry{}, nil
	}
	unit, mk := "", func(int) Expiry { return Expiry{} }
	switch {
	case strings.HasSuffix(s, "mo"):
		unit, mk = "mo", func(n int) Expiry { return Expiry{Months: n} }
	case strings.HasSuffix(s, "d"):
		unit, mk = "d", func(n int) Expiry { return Expiry{Days: n} }
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, unit))
	if unit == "" || err != nil || n < 1 || (unit == "mo" && n > 1200) || (unit == "d" && n > 36500) {
		return Expiry{}, fmt.Errorf("%q is not a period such as 13mo (months), 400d (days) or off", s)
	}
	if unit == "d" && n < 7 {
		return Expiry{}, fmt.Errorf("%q is shorter than 7 days: anonymous profiles would expire between two visits", s)
	}
	return mk(n), nil
}

// ExpireAnonymous erases every anonymous profile whose last activity lies
// before the expiry's cutoff at now, with its events: in place (see
// Env.EraseProfiles), or, should that fail, by rebuilding the derived
// state without them. It returns how many profiles and events it
// removed. The background job calls it hourly; tests call it with a clock
// of their own.
func (r *Requests) ExpireAnonymous(ctx context.Context, now time.Time) (profiles, events int, err error) {
	e := r.opts.AnonymousExpiry
	if e.Off() {
		return 0, 0, nil
	}
	cutoff := e.Cutoff(now)
	// A first look while processing runs, so that a server with nothing
	// to expire never stops its stages.
	ids, err := r.env.InactiveAnonymous(ctx, cutoff, AnonymousTypes)
	if err != nil || len(ids) == 0 {
		return 0, 0, err
	}
	// In place first, while processing goes on; the profiles found are
	// anonymous and inactive, so nothing about them changes meanwhile.
	refs := make([]string, len(ids))
	for i, id := range ids {
		refs[i] = identity.ProfileID(id).String()
	}
	n, erased, err := r.env.EraseProfiles(ctx, refs)
	if err == nil {
		if err := r.st.Compact(ctx); err != nil {
			return 0, n, fmt.Errorf("privacy: expire anonymous profiles: compact the store: %w", err)
		}
		r.opts.Log.Info("anonymous profiles expired", "profiles", len(erased), "events", n, "inactive_since", cutoff)
		return len(erased), n, nil
	}
	r.opts.Log.Warn("expiring anonymous profiles in place failed; rebuilding all derived state without them instead", "profiles", len(ids), "err", err)
	n, err = r.env.EraseEvents(ctx, func(ctx context.Context) ([]uint64, error) {
		ids, err := r.env.InactiveAnonymous(ctx, cutoff, AnonymousTypes)
		if err != nil {
			return nil, err
		}
		profiles = len(ids)
		var seqs []uint64
		for _, id := range ids {
			rows, err := r.timeline(ctx, identity.ProfileID(id).String())
			if err != nil && mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
				return nil, err
			}
			for _, t := range rows {
				seqs = append(seqs, t.Seq)
			}
		}
		return seqs, nil
	})
	if err != nil {
		return 0, n, fmt.Errorf("privacy: expire anonymous profiles: %w", err)
	}
	r.opts.Log.Info("anonymous profiles expired", "profiles", profiles, "events", n, "inactive_since", cutoff)
	return profiles, n, nil
}
