package store

import (
	"context"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// PurposeStore keeps the consent purposes of the installation. They live
// in the store, not only in a flag, so that they can change while Mosaic
// runs and every node sharing a database reads one list.
type PurposeStore interface {
	// Purposes lists the stored purposes in the order they were added
	// (ReplacePurposes' order, then AddPurpose's). Empty, not nil, before
	// any was stored.
	Purposes(ctx context.Context) ([]*Purpose, error)
	// AddPurpose stores a new purpose after the others; ECONFLICT if one
	// has the name, EINVALID if the name is empty. Name and Description
	// are set to what was stored (see CleanText).
	AddPurpose(ctx context.Context, p *Purpose) error
	// DeletePurpose deletes a purpose; ENOTFOUND if none has the name.
	DeletePurpose(ctx context.Context, name string) error
	// ReplacePurposes replaces the stored purposes with list, in its
	// order, all or nothing; EINVALID if a name is empty or repeated.
	ReplacePurposes(ctx context.Context, list []*Purpose) error
}

// Purpose is a consent purpose as stored; package privacy owns the rules
// (valid names, what the default means).
type Purpose struct {
	Name        string
	Description string
	// Granted is the state while no consent signal says otherwise (true
	// only for processing that needs no consent).
	Granted   bool
	CreatedAt time.Time
}

// LoginStore counts sign-in attempts for the API's login limiter. They
// are in the store so that the limit holds across every node sharing a
// database, and across restarts.
type LoginStore interface {
	// BeginLogin records an attempt to sign in under key at time at and
	// returns the new attempt's ID and how many attempts under key, this
	// one included, are recorded at or after since. It also sweeps away
	// attempts (of any key) made before since; a sweep may leave some to
	// the next call. Attempts under one key are recorded
	// one at a time, also by nodes sharing a database, so each sees every
	// attempt begun before it. An attempt stays recorded, as a failure,
	// until ForgetLogin removes it.
	BeginLogin(ctx context.Context, key string, at, since time.Time) (id int64, n int, err error)
	// ForgetLogin removes an attempt that was no failure (the password
	// was right, or the attempt was refused before it was checked).
	// Removing one that is gone already is no error.
	ForgetLogin(ctx context.Context, id int64) error
}

// CheckPurposeList returns EINVALID if a purpose of list has no name or
// one name comes twice, as ReplacePurposes requires.
func CheckPurposeList(list []*Purpose) error {
	seen := map[string]bool{}
	for _, p := range list {
		name := CleanText(p.Name)
		if name == "" {
			return mosaic.Errorf(mosaic.EINVALID, "A purpose needs a name.")
		}
		if seen[name] {
			return mosaic.Errorf(mosaic.EINVALID, "Purpose %q is in the list twice.", name)
		}
		seen[name] = true
	}
	return nil
}
