package store

import (
	"context"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// PredictStore keeps what the predictions need between restarts: the
// activity the prediction observer derives from the profiles (each
// profile's orders and engagement, checkpointed with the log position it
// reflects, like the profiles themselves), and the output of the latest
// fit: one report per model and the predicted traits of every profile.
//
// Activity is derived from the log, so ResetDerived deletes it; the fit's
// output is not (a replay does not refit), so it stays until the next fit
// replaces it.
type PredictStore interface {
	// LoadPredictActivity calls fn for every saved activity row, in profile
	// ID order, until fn returns an error, which it then returns; it returns
	// the log position the rows reflect (0 if none was saved).
	LoadPredictActivity(ctx context.Context, fn func(id uint64, data []byte) error) (seq uint64, err error)
	// SavePredictActivity atomically records the new position, deletes the
	// Deleted profiles' rows, then upserts Rows. Saving a position below
	// the stored one is a no-op that returns nil; saving the same commit
	// twice is harmless. EINVALID, and nothing saved, if a position or ID
	// is 2^63 or more. Data is stored byte for byte.
	SavePredictActivity(ctx context.Context, c *PredictActivityCommit) error

	// SavePredictions atomically replaces the latest fit: every model
	// report and every profile's predicted traits are replaced by f's.
	// EINVALID if a profile ID is 2^63 or more or a model name is empty.
	SavePredictions(ctx context.Context, f *PredictionFit) error
	// PredictionModels returns the latest fit's model reports, by name.
	// The slice is empty, not nil, before the first fit.
	PredictionModels(ctx context.Context) ([]PredictionModelRow, error)
	// Predictions returns one profile's predicted traits (JSON) from the
	// latest fit; ENOTFOUND if the fit gave it none.
	Predictions(ctx context.Context, profileID uint64) ([]byte, error)
	// LoadPredictions calls fn for every profile's predicted traits, in
	// profile ID order, until fn returns an error, which it then returns.
	LoadPredictions(ctx context.Context, fn func(id uint64, data []byte) error) error
}

// PredictActivityCommit is one checkpoint of the prediction observer.
type PredictActivityCommit struct {
	Seq     uint64 // log position observed, inclusive
	Deleted []uint64
	Rows    []ProfileRow
}

// PredictionFit is the output of one fit.
type PredictionFit struct {
	Models   []PredictionModelRow
	Profiles []ProfileRow // Data: the profile's predicted traits as JSON
}

// PredictionModelRow is one fitted model's report as JSON (the predict
// package's ModelReport plus the fit's version and status).
type PredictionModelRow struct {
	Name   string
	FitAt  time.Time
	Report []byte // JSON
}

// maxID is the largest profile ID or log position a store keeps.
const maxID = 1<<63 - 1

// CheckPredictActivity returns EINVALID if c holds a position or profile ID
// a store cannot keep. Implementations call it before writing anything.
func CheckPredictActivity(c *PredictActivityCommit) error {
	if c.Seq > maxID {
		return invalidID("position", c.Seq)
	}
	for _, id := range c.Deleted {
		if id > maxID {
			return invalidID("profile ID", id)
		}
	}
	for _, r := range c.Rows {
		if r.ID > maxID {
			return invalidID("profile ID", r.ID)
		}
	}
	return nil
}

// CheckPredictionFit returns EINVALID if f holds a profile ID a store
// cannot keep or a model without a name.
func CheckPredictionFit(f *PredictionFit) error {
	for _, m := range f.Models {
		if CleanText(m.Name) == "" {
			return mosaic.Errorf(mosaic.EINVALID, "A fitted model has no name.")
		}
	}
	for _, r := range f.Profiles {
		if r.ID > maxID {
			return invalidID("profile ID", r.ID)
		}
	}
	return nil
}

func invalidID(what string, v uint64) error {
	return mosaic.Errorf(mosaic.EINVALID, "The %s %d is too large: it must be below 2^63.", what, v)
}
