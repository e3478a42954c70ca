package api

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/audience"
)

// Purposes are configured per installation (--purposes); every place a
// user names one is checked against that set here, so a typo
// ("marketting") is refused with the list instead of silently never
// matching: the consent API (package privacy), destination purposes and
// the audience condition consent(...).

// checkPurposes refuses names that are not configured purposes. Without a
// consent service (tests of other parts) there is nothing to check
// against.
func (s *Server) checkPurposes(ctx context.Context, where string, names []string) error {
	if s.opts.Consent == nil || len(names) == 0 {
		return nil
	}
	if err := s.refreshPurposes(ctx); err != nil {
		return err
	}
	ps := s.opts.Consent.Config().Purposes()
	for _, n := range names {
		if !ps.Has(n) {
			var all []string
			for _, p := range ps.List() {
				all = append(all, p.Name)
			}
			return mosaic.Errorf(mosaic.EINVALID, "%s: purpose %q is not configured; the purposes are %s (GET /api/v1/privacy/purposes).", where, n, strings.Join(all, ", "))
		}
	}
	return nil
}

// checkConditionPurposes checks the purposes a condition's consent(...)
// reads. A condition that does not parse is left to the segment engine,
// whose message says where it went wrong.
func (s *Server) checkConditionPurposes(ctx context.Context, raw json.RawMessage) error {
	if s.opts.Consent == nil {
		return nil
	}
	return s.checkPurposes(ctx, "condition", conditionPurposes(raw))
}

// conditionPurposes returns the purposes a condition (text or JSON tree)
// reads with consent(...); none if it does not parse.
func conditionPurposes(raw json.RawMessage) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || !bytes.Contains(raw, []byte("consent")) {
		return nil
	}
	var c *audience.Condition
	var err error
	if raw[0] == '"' {
		var text string
		if err = json.Unmarshal(raw, &text); err == nil {
			c, err = audience.Parse(text)
		}
	} else {
		c, err = audience.Decode(raw)
	}
	if err != nil || c == nil {
		return nil
	}
	return audience.Dependencies(c).Consent
}
