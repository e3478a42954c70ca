package main

import (
	"context"
	"path/filepath"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/activate"
	"github.com/mosaic-cdp/mosaic/activate/kafka"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/store"
)

// openActivation returns the delivery service and the event forwarder.
func (m *Main) openActivation(st store.Store, e *engine.Engine, profiles *engine.Profiles) (*activate.Service, *activate.Forwarder) {
	allow, _ := activate.ParseAllowList(m.Config.WebhookAllowCIDR) // checked by Validate
	opts := activate.DefaultOptions()
	opts.Log = m.Logger.With("part", "activate")
	opts.Kinds = activate.NewKinds(activate.Webhook{}, activate.File{}, kafka.Kind{})
	opts.Consent = activate.SignalConsent{Store: st, Default: m.Config.ConsentDefault == "grant"}
	opts.HTTP = activate.Guard{Allow: allow}.Client(opts.Concurrency)
	opts.FileRoot = filepath.Join(m.Config.Data, "exports")
	opts.MaxAge, opts.RetryBase = m.Config.DeliveryMaxAge, m.Config.DeliveryRetry
	svc := activate.New(st, opts)
	fwd := activate.NewForwarder(e, st, svc, activate.ForwardOptions{
		Log: m.Logger.With("part", "forward"), ProfileKey: profileKey(profiles),
	})
	return svc, fwd
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
