package privacy

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// ExtendInput asks for a later deadline. GDPR (Art. 12(3)) allows two
// further months "where necessary, taking into account the complexity and
// number of the requests", once, and the person must be told why; CCPA
// (§ 1798.130(a)(2)) allows 45 further days.
type ExtendInput struct {
	// Months is the GDPR extension: 1 or 2 (default 2). Not for CCPA.
	Months int `json:"months,omitempty"`
	// Reason is what the person is told; required.
	Reason string `json:"reason"`
}

// maxReasonLen bounds an extension's reason.
const maxReasonLen = 1000

// Extend moves an open request's deadline once, recording when and why.
func (r *Requests) Extend(ctx context.Context, id string, in ExtendInput) (*store.PrivacyRequest, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	switch {
	case in.Reason == "":
		return nil, mosaic.Errorf(mosaic.EINVALID, `Give the reason the person will be told: {"months": 2, "reason": "..."}.`)
	case utf8.RuneCountInString(in.Reason) > maxReasonLen:
		return nil, mosaic.Errorf(mosaic.EINVALID, "An extension's reason can have at most %d characters.", maxReasonLen)
	}
	req, err := r.st.PrivacyRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if req.Status != StatusPending && req.Status != StatusRunning {
		return nil, mosaic.Errorf(mosaic.ECONFLICT, "Request %s is %s: only an open request's deadline can be extended.", id, req.Status)
	}
	if req.ExtendedAt != nil {
		return nil, mosaic.Errorf(mosaic.ECONFLICT, "Request %s was extended already, on %s: the law allows one extension.", id, req.ExtendedAt.Format(time.DateOnly))
	}
	due, err := extendedDue(req, in)
	if err != nil {
		return nil, err
	}
	now := r.opts.Now().UTC().Truncate(time.Microsecond)
	if err := r.st.ExtendPrivacyRequest(ctx, id, due, in.Reason, now); err != nil {
		return nil, err
	}
	return r.Get(ctx, id)
}

// extendedDue is the new deadline, counted from the first one.
func extendedDue(req *store.PrivacyRequest, in ExtendInput) (time.Time, error) {
	if req.Law == LawCCPA {
		if in.Months != 0 {
			return time.Time{}, mosaic.Errorf(mosaic.EINVALID, `A CCPA request's deadline extends by 45 days: leave out "months".`)
		}
		return req.DueAt.AddDate(0, 0, 45), nil
	}
	if in.Months == 0 {
		in.Months = 2
	}
	if in.Months < 1 || in.Months > 2 {
		return time.Time{}, mosaic.Errorf(mosaic.EINVALID, "A GDPR deadline extends by 1 or 2 months, not %d.", in.Months)
	}
	return req.DueAt.AddDate(0, in.Months, 0), nil
}
