package main

import (
	"context"
	"encoding/json"
	"path/filepath"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/activate"
	"github.com/mosaic-cdp/mosaic/activate/kafka"
	"github.com/mosaic-cdp/mosaic/identity"
)

// openActivation returns the delivery service, the event forwarder and
// audience delivery.
func (m *Main) openActivation() (*activate.Service, *activate.Forwarder, *activate.AudienceDelivery) {
	allow, _ := activate.ParseAllowList(m.Config.WebhookAllowCIDR) // checked by Validate
	opts := activate.DefaultOptions()
	opts.Log = m.Logger.With("part", "activate")
	opts.Kinds = activate.NewKinds(activate.Webhook{}, activate.File{}, kafka.Kind{})
	opts.Consent = activate.SignalConsent{Store: m.Store, Default: m.Config.ConsentDefault == "grant"}
	opts.HTTP = activate.Guard{Allow: allow}.Client(opts.Concurrency)
	opts.FileRoot = filepath.Join(m.Config.Data, "exports")
	opts.MaxAge, opts.RetryBase = m.Config.DeliveryMaxAge, m.Config.DeliveryRetry
	opts.Retention = m.Config.DeliveryRetention
	svc := activate.New(m.Store, opts)
	fwd := activate.NewForwarder(m.Engine, m.Store, svc, activate.ForwardOptions{
		Log: m.Logger.With("part", "forward"), ProfileKey: m.profileKey,
	})
	aud := activate.NewAudienceDelivery(m.Store, directory{m}, svc, activate.AudienceOptions{
		Log: m.Logger.With("part", "audience-delivery"), Processed: m.Profiles.Processed,
	})
	return svc, fwd, aud
}

// profileKey names an event's profile for ordering and consent: its
// resolved profile ID once the profile stage has seen the event, else the
// identifier reference.
func (m *Main) profileKey(ctx context.Context, ev *mosaic.Event, ref string) string {
	if err := m.Profiles.WaitProcessed(ctx, ev.Seq); err != nil {
		return ref
	}
	id, err := m.Profiles.Find(ref)
	if err != nil {
		return ref
	}
	return id.String()
}

// directory answers audience delivery from the segment engine and the
// profile stage.
type directory struct{ m *Main }

func (d directory) Audience(ref string) (activate.AudienceInfo, bool) {
	v, err := d.m.Segments.Audience(ref)
	if err != nil {
		return activate.AudienceInfo{}, false
	}
	return activate.AudienceInfo{ID: v.ID, Key: v.Key, Name: v.Name}, true
}

func (d directory) Members(audienceID string, after uint64, limit int) ([]activate.Member, error) {
	ms, _, err := d.m.Segments.Members(audienceID, after, limit)
	out := make([]activate.Member, len(ms))
	for i, mb := range ms {
		out[i] = activate.Member{ProfileID: mb.ProfileID, Since: mb.Since}
	}
	return out, err
}

func (d directory) Profile(id uint64) (activate.ProfileInfo, bool) {
	v, err := d.m.Profiles.Profile(identity.ProfileID(id).String())
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
