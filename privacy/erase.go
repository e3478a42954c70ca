package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

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
//  3. their events are redacted from the event log, and every piece of
//     derived state is rebuilt from the log without them (Env.EraseEvents),
//     after which the store's files are compacted;
//  4. a check that no profile has the identifier any more.
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
	// The person's events are read once processing has stopped, so an
	// event that arrived since the lookup above is erased too.
	n, err := r.env.EraseEvents(ctx, func(ctx context.Context) ([]uint64, error) {
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
	if left, err := r.env.Identity(id.String()); err == nil {
		return nil, fmt.Errorf("privacy: after erasure profile %s still has the identifier", left.ID)
	} else if mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		return nil, err
	}
	out["events_erased"] = n
	out["destinations"] = []any{} // none configured here; see docs/privacy.md
	return out, nil
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
