package main

import (
	"context"

	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/privacy"
	"github.com/mosaic-cdp/mosaic/store"
)

// consentObserver returns the observer that derives consent from the
// events, for the profile stage of serve and of replay alike: a replay
// must rebuild consent with the profiles, or it would be lost.
func consentObserver(st store.Store, grantByDefault bool) (*privacy.Observer, []engine.ProfileObserver, error) {
	purposes := privacy.DefaultPurposes()
	if grantByDefault { // --consent-default grant: an opt-out regime
		for i := range purposes {
			purposes[i].Default = true
		}
	}
	cfg, err := privacy.NewConfig(purposes, nil)
	if err != nil {
		return nil, nil, err
	}
	obs := privacy.NewObserver(cfg, st)
	return obs, []engine.ProfileObserver{obs}, nil
}

// startPrivacy makes the audit log and the request service, keyed by the
// installation secret, and starts carrying out requests.
func (m *Main) startPrivacy(ctx context.Context) error {
	secret, err := privacy.InstallationSecret(ctx, m.Store)
	if err != nil {
		return err
	}
	m.Audit = privacy.NewAuditor(m.Store, secret, nil)
	if m.Requests, err = m.newRequests(ctx, secret); err != nil {
		return err
	}
	rctx, stop := context.WithCancel(context.Background())
	m.privacyStop, m.privacyDone = stop, make(chan struct{})
	go func() { defer close(m.privacyDone); m.Requests.Run(rctx) }()
	return nil
}
