package main

import (
	"context"
	"encoding/json"
	"path/filepath"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/activate"
	"github.com/mosaic-cdp/mosaic/activate/kafka"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/privacy"
	"github.com/mosaic-cdp/mosaic/segment"
	"github.com/mosaic-cdp/mosaic/store"
)

// openActivation returns the delivery service, the event forwarder and
// audience delivery of a term of the stages.
func (m *Main) openActivation(st store.Store, e *engine.Engine, profiles *engine.Profiles, segments *segment.Segments, consent *privacy.Service) (*activate.Service, *activate.Forwarder, *activate.AudienceDelivery) {
	allow, _ := activate.ParseAllowList(m.Config.WebhookAllowCIDR) // checked by Validate
	opts := activate.DefaultOptions()
	opts.Log = m.Logger.With("part", "activate")
	opts.Kinds = activate.NewKinds(activate.Webhook{}, activate.File{}, kafka.Kind{})
	opts.Consent = privacyConsent{consent: consent, profiles: profiles}
	opts.HTTP = activate.Guard{Allow: allow}.Client(opts.Concurrency)
	opts.FileRoot = filepath.Join(m.Config.Data, "exports")
	opts.MaxAge, opts.RetryBase = m.Config.DeliveryMaxAge, m.Config.DeliveryRetry
	opts.Retention = m.Config.DeliveryRetention
	svc := activate.New(st, opts)
	fwd := activate.NewForwarder(e, st, svc, activate.ForwardOptions{
		Log: m.Logger.With("part", "forward"), ProfileKey: profileKey(profiles), SkipIdle: true,
	})
	aud := activate.NewAudienceDelivery(st, directory{segments, profiles}, svc, activate.AudienceOptions{
		Log: m.Logger.With("part", "audience-delivery"), Processed: profiles.Processed,
	})
	return svc, fwd, aud
}

// profileKey returns how events' profiles are named for ordering and
// consent: the resolved profile ID once the profile stage has seen the
// event, else the identifier reference.
func profileKey(profiles *engine.Profiles) func(ctx context.Context, ev *mosaic.Event, ref string) string {
	return func(ctx context.Context, ev *mosaic.Event, ref string) string {
		if err := profiles.WaitProcessed(ctx, ev.Seq); err != nil {
			return ref
		}
		id, err := profiles.Find(ref)
		if err != nil {
			return ref
		}
		return id.String()
	}
}

// privacyConsent is activation's consent gate on the privacy model
// (package privacy): consent per purpose from every signal, events, the API
// and GPC, following the profile through merges and splits.
type privacyConsent struct {
	consent  *privacy.Service
	profiles *engine.Profiles
}

// Granted answers for a profile key: a profile ID, or an identifier
// reference for an event the profile stage has not resolved; a person
// Mosaic does not know has consented to nothing.
func (c privacyConsent) Granted(ctx context.Context, key string, purposes []string) (bool, error) {
	id, err := identity.ParseProfileID(key)
	if err != nil {
		if id, err = c.profiles.Find(key); err != nil {
			return false, nil
		}
	}
	return c.consent.Granted(ctx, uint64(id), purposes)
}

// directory answers audience delivery from the segment engine and the
// profile stage.
type directory struct {
	segments *segment.Segments
	profiles *engine.Profiles
}

func (d directory) Audience(ref string) (activate.AudienceInfo, bool) {
	v, err := d.segments.Audience(ref)
	if err != nil {
		return activate.AudienceInfo{}, false
	}
	return activate.AudienceInfo{ID: v.ID, Key: v.Key, Name: v.Name}, true
}

func (d directory) Members(audienceID string, after uint64, limit int) ([]activate.Member, error) {
	ms, _, err := d.segments.Members(audienceID, after, limit)
	out := make([]activate.Member, len(ms))
	for i, mb := range ms {
		out[i] = activate.Member{ProfileID: mb.ProfileID, Since: mb.Since}
	}
	return out, err
}

func (d directory) Profile(id uint64) (activate.ProfileInfo, bool) {
	v, err := d.profiles.Profile(identity.ProfileID(id).String())
	if err != nil {
		return activate.ProfileInfo{}, false
	}
	p := activate.ProfileInfo{Identifiers: map[string][]string{}, Traits: map[string]any{}}
	for _, x := range v.Identifiers {
		p.Identifiers[x.Type] = append(p.Identifiers[x.Type], x.Value)
	}
	for k, raw := range v.Traits {
		var val any
		if json.Unmarshal(raw, &val) == nil {
			p.Traits[k] = val
		}
	}
	return p, true
}
