package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/mosaic-cdp/mosaic/activate"
	"github.com/mosaic-cdp/mosaic/activate/kafka"

	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/privacy"
	"github.com/mosaic-cdp/mosaic/store"
)

// consentObserver returns the observer that derives consent from the
// events, for the profile stage of serve and of replay alike: a replay
// must rebuild consent with the profiles, or it would be lost. It reads
// the purposes from the store, where seedPurposes put them.
func consentObserver(ctx context.Context, st store.Store, grantByDefault bool) (*privacy.Observer, []engine.ProfileObserver, error) {
	purposes, err := privacy.StoredPurposes(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	if len(purposes) == 0 { // a store no server has opened yet
		purposes = privacy.DefaultPurposes()
	}
	// --consent-default grant: an opt-out regime
	cfg, err := privacy.NewPurposeConfig(purposes, grantByDefault)
	if err != nil {
		return nil, nil, err
	}
	obs := privacy.NewObserver(cfg, st)
	return obs, []engine.ProfileObserver{obs}, nil
}

// seedPurposes makes the stored purposes follow the --purposes flag:
// stored at the first start, replaced when the flag's value changes,
// left as the API changed them otherwise (see privacy.SeedPurposes).
func seedPurposes(ctx context.Context, st store.Store, flag string) error {
	if _, err := privacy.SeedPurposes(ctx, st, flag, time.Now()); err != nil {
		return fmt.Errorf("purposes: %w", err)
	}
	return nil
}

// startPrivacy makes the audit log and the request service, keyed by the
// installation secret, and starts carrying out requests.
func (m *Main) startPrivacy(ctx context.Context) error {
	if err := seedPurposes(ctx, m.Store, m.Config.Purposes); err != nil {
		return err
	}
	secret, err := privacy.InstallationSecret(ctx, m.Store)
	if err != nil {
		return err
	}
	m.Audit = privacy.NewAuditor(m.Store, secret, nil)
	deletions := m.newDeletions()
	if m.Requests, err = m.newRequests(ctx, secret, deletions); err != nil {
		return err
	}
	rctx, stop := context.WithCancel(context.Background())
	m.privacyStop, m.privacyDone = stop, make(chan struct{})
	go func() {
		defer close(m.privacyDone)
		var wg sync.WaitGroup
		wg.Go(func() { deletions.Run(rctx) })
		m.Requests.Run(rctx)
		wg.Wait()
	}()
	return nil
}

// newDeletions returns the service that sends deletion messages to
// destinations after an erasure, with the delivery settings and outbound
// guard of other messages. It lives outside the terms of the stages: an
// erasure ends a term, and its messages go out after.
func (m *Main) newDeletions() *activate.Deletions {
	allow, _ := activate.ParseAllowList(m.Config.WebhookAllowCIDR) // checked by Validate
	return activate.NewDeletions(m.Store, activate.DeletionOptions{
		Log:   m.Logger.With("part", "deletions"),
		Kinds: activate.NewKinds(activate.Webhook{}, activate.File{}, kafka.Kind{}),
		HTTP:  activate.Guard{Allow: allow}.Client(4), FileRoot: filepath.Join(m.Config.Data, "exports"),
		MaxAge: m.Config.DeliveryMaxAge, RetryBase: m.Config.DeliveryRetry,
	})
}
