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
func consentObserver(st store.Store) (*privacy.Observer, []engine.ProfileObserver, error) {
	cfg, err := privacy.NewConfig(nil, nil)
	if err != nil {
		return nil, nil, err
	}
	obs := privacy.NewObserver(cfg, st)
	return obs, []engine.ProfileObserver{obs}, nil
}

// newAuditor returns the audit log, keyed by the installation secret.
func newAuditor(ctx context.Context, st store.Store) (*privacy.Auditor, error) {
	secret, err := privacy.InstallationSecret(ctx, st)
	if err != nil {
		return nil, err
	}
	return privacy.NewAuditor(st, secret, nil), nil
}
