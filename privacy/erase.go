package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/store"
)

// erase removes every trace of the person the identifier names:
//
//  1. their identifiers go on the suppression list first (unless asked
//     not to), so nothing new about them is stored meanwhile;
//  2. access exports about them are deleted, and quarantined messages
//     holding their identifiers or trait values;
//  3. their profile is erased while processing goes on (Env.EraseProfiles):
//     their events are redacted in the event log, their identifiers
//     forgotten, every stored row derived from them deleted, and the
//     profiles linked to theirs only by refused merges rebuilt; should
//     that fail, their events are redacted and all derived state is
//     rebuilt from the log without them (Env.EraseEvents), the slow way;
//  4. destinations that received their data get deletion messages, and
//     the outbox loses the messages about them;
//  5. the store's files are compacted, and a check makes sure no profile
//     has the identifier any more.
//
// The request's own record loses the identifier before the compaction, so
// no file keeps it.
func (r *Requests) erase(ctx context.Context, req *store.PrivacyRequest, id identity.Identifier, suppress bool) (map[string]any, error) {
	v, err := r.person(id)
	if err != nil {
		return nil, err
	}
	hashes := r.identifierHashes(id, v)
	out := map[string]any{"found": v != nil}
	if suppress {
		if err := r.st.Suppress(ctx, hashes, "erase", r.opts.Now()); err != nil {
			return nil, err
		}
		if err := r.LoadSuppressions(ctx); err != nil {
			return nil, err
		}
		out["suppressed"] = hashes
	}
	needles := [][]byte{[]byte(id.Value)}
	if v != nil {
		needles = append(needles, r.personalValues(v)...)
	}
	if out["exports_removed"], err = r.removeExports(ctx, hashes); err != nil {
		return nil, err
	}
	if out["quarantine_erased"], err = r.st.EraseRejected(ctx, needles); err != nil {
		return nil, err
	}
	req.Identifier = ""
	if err := r.st.UpdatePrivacyRequest(ctx, req); err != nil {
		return nil, err
	}
	var notices []store.DeletionNotice
	if v != nil {
		n, profiles, err := r.env.EraseProfiles(ctx, []string{v.ID.String()})
		if err == nil {
			// No stage adds messages about them from here on: their events
			// and audience changes are gone.
			if notices, err = r.notifyRecipients(ctx, req.ID, id, v, profiles...); err != nil {
				return nil, err
			}
			if err := r.st.Compact(ctx); err != nil {
				return nil, fmt.Errorf("privacy: compact the store: %w", err)
			}
			out["method"] = "profile"
			return r.erased(id, out, n, notices)
		}
		r.opts.Log.Warn("erasing the profile alone failed; erasing by rebuilding all derived state instead", "request", req.ID, "err", err)
	}
	// The person's events are read once processing has stopped, so an
	// event that arrived since the lookup above is erased too; so are the
	// outbox messages about them, which no stage adds to meanwhile.
	n, err := r.env.EraseEvents(ctx, func(ctx context.Context) ([]uint64, error) {
		var err error
		if notices, err = r.notifyRecipients(ctx, req.ID, id, v); err != nil {
			return nil, err
		}
		if v == nil {
			return nil, nil
		}
		var seqs []uint64
		rows, err := r.timeline(ctx, v.ID.String())
		for _, t := range rows {
			seqs = append(seqs, t.Seq)
		}
		return seqs, err
	})
	if err != nil {
		return nil, fmt.Errorf("privacy: erase events: %w", err)
	}
	out["method"] = "rebuild"
	return r.erased(id, out, n, notices)
}

// erased checks that no profile has the identifier any more and completes
// the outcome.
func (r *Requests) erased(id identity.Identifier, out map[string]any, n int, notices []store.DeletionNotice) (map[string]any, error) {
	if left, err := r.env.Identity(id.String()); err == nil {
		return nil, fmt.Errorf("privacy: after erasure profile %s still has the identifier", left.ID)
	} else if mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		return nil, err
	}
	out["events_erased"] = n
	out["destinations"] = destinationOutcome(notices)
	return out, nil
}

// notifyRecipients hands the person to Recipients (if any): their
// profile ID and identifiers, in clear only for this call.
func (r *Requests) notifyRecipients(ctx context.Context, reqID string, id identity.Identifier, v *engine.IdentityView, profileKeys ...string) ([]store.DeletionNotice, error) {
	if r.opts.Recipients == nil {
		return nil, nil
	}
	ids := []identity.Identifier{id}
	keys := append([]string{id.String()}, profileKeys...)
	if v != nil {
		keys = append(keys, v.ID.String())
		for _, i := range v.Identifiers {
			if i.Identifier != id {
				ids = append(ids, i.Identifier)
				keys = append(keys, i.Identifier.String())
			}
		}
	}
	notices, err := r.opts.Recipients.Erase(ctx, reqID, keys, ids, r.hash)
	if err != nil {
		return nil, fmt.Errorf("privacy: deletion messages to destinations: %w", err)
	}
	return notices, nil
}

// DestinationStatus is an erasure's outcome for one destination that had
// been sent the person's data.
type DestinationStatus struct {
	DestinationID string `json:"destination_id"`
	Name          string `json:"name"`
	// Status is queued, delivered, failed or not_supported.
	Status      string    `json:"status"`
	Identifiers []string  `json:"identifier_hashes"`
	Attempts    int       `json:"attempts,omitempty"`
	Error       string    `json:"error,omitempty"`
	DoneAt      time.Time `json:"done_at,omitzero"`
}

func destinationOutcome(ns []store.DeletionNotice) []DestinationStatus {
	out := []DestinationStatus{}
	for _, n := range ns {
		out = append(out, DestinationStatus{DestinationID: n.DestinationID, Name: n.DestinationName, Status: n.Status,
			Identifiers: n.IdentifierHashes, Attempts: n.Attempts, Error: n.LastError, DoneAt: n.DoneAt})
	}
	return out
}

// withNotices returns req with the destinations of its outcome as they
// are now: deletion messages are delivered after the erasure completes.
func (r *Requests) withNotices(ctx context.Context, req *store.PrivacyRequest) (*store.PrivacyRequest, error) {
	if req.Type != RequestErase || req.Status != StatusCompleted {
		return req, nil
	}
	ns, err := r.st.DeletionNotices(ctx, req.ID)
	if err != nil || len(ns) == 0 {
		return req, err
	}
	var outcome map[string]any
	if json.Unmarshal(req.Outcome, &outcome) != nil || outcome == nil {
		outcome = map[string]any{}
	}
	outcome["destinations"] = destinationOutcome(ns)
	req.Outcome, err = json.Marshal(outcome)
	return req, err
}

// personalValues are the values to find in raw payloads: the person's
// identifiers and the values of their personal traits (DefaultPIITraits;
// other values, such as a plan name, would match other people's data).
func (r *Requests) personalValues(v *engine.IdentityView) [][]byte {
	var out [][]byte
	for _, i := range v.Identifiers {
		out = append(out, []byte(i.Value))
	}
	pv, err := r.env.Profile(v.ID.String())
	if err != nil {
		return out
	}
	for name, raw := range pv.Traits {
		var s string
		if IsPIITrait(name) && json.Unmarshal(raw, &s) == nil && len(s) >= 3 {
			out = append(out, []byte(s))
		}
	}
	return out
}

// removeExports deletes access exports of requests about any of hashes.
func (r *Requests) removeExports(ctx context.Context, hashes []string) (int, error) {
	all, err := r.st.PrivacyRequests(ctx, false)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range all {
		if p.Type != RequestAccess || !slices.Contains(hashes, p.IdentifierHash) {
			continue
		}
		j, c := r.exportPaths(p.ID)
		for _, path := range []string{j, c} {
			if err := os.Remove(path); err == nil {
				n++
			} else if !errors.Is(err, os.ErrNotExist) {
				return n, fmt.Errorf("privacy: remove export: %w", err)
			}
		}
	}
	return n, nil
}
