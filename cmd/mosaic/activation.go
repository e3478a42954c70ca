package main

import (
	"context"
	"path/filepath"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/activate"
	"github.com/mosaic-cdp/mosaic/activate/kafka"
)

// openActivation returns the delivery service and the event forwarder.
func (m *Main) openActivation() (*activate.Service, *activate.Forwarder) {
	allow, _ := activate.ParseAllowList(m.Config.WebhookAllowCIDR) // checked by Validate
	opts := activate.DefaultOptions()
	opts.Log = m.Logger.With("part", "activate")
	opts.Kinds = activate.NewKinds(activate.Webhook{}, activate.File{}, kafka.Kind{})
	opts.Consent = activate.SignalConsent{Store: m.Store, Default: m.Config.ConsentDefault == "grant"}
	opts.HTTP = activate.Guard{Allow: allow}.Client(opts.Concurrency)
	opts.FileRoot = filepath.Join(m.Config.Data, "exports")
	opts.MaxAge, opts.RetryBase = m.Config.DeliveryMaxAge, m.Config.DeliveryRetry
	svc := activate.New(m.Store, opts)
	fwd := activate.NewForwarder(m.Engine, m.Store, svc, activate.ForwardOptions{
		Log: m.Logger.With("part", "forward"), ProfileKey: m.profileKey,
	})
	return svc, fwd
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
