package privacy

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// AuditEntry is one audited action: who did what to which object, when,
// from where, and with what result. Object and Detail hold only
// pseudonymous references to people (profile IDs, keyed hashes of
// identifiers), so erasing a person leaves the fact of an action but no
// personal data.
type AuditEntry struct {
	ID     int64     `json:"id"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`  // the token's name
	Role   string    `json:"role"`   // the token's role
	Action string    `json:"action"` // e.g. "PUT /api/v1/profiles/{ref}/consent"
	Object string    `json:"object"` // the path, people pseudonymised
	From   string    `json:"from"`   // the client's address
	Status int       `json:"status"` // the HTTP status answered
	Result string    `json:"result"` // ok, denied, failed
	Detail string    `json:"detail,omitempty"`
	// PrevHash and Hash chain the entry: Hash = SHA-256(PrevHash || the
	// entry's JSON without the two hashes), base64.
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// Auditor appends to the audit log and verifies it.
type Auditor struct {
	st  store.AuditStore
	key []byte // the installation secret, for pseudonyms
	now func() time.Time
}

// NewAuditor returns an auditor. key is the installation secret that keys
// the pseudonyms of identifiers (see Pseudonym).
func NewAuditor(st store.AuditStore, key []byte, now func() time.Time) *Auditor {
	if now == nil {
		now = time.Now
	}
	return &Auditor{st: st, key: key, now: now}
}

// Pseudonym returns a keyed hash of an identifier "type:value", keeping
// the type readable: "email:h_3q2...". The same identifier always gives the
// same pseudonym in one installation, so entries about one person can be
// found without the log holding who it is.
func (a *Auditor) Pseudonym(ref string) string {
	typ, value, ok := strings.Cut(ref, ":")
	if !ok {
		typ, value = "ref", ref
	}
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(value))))
	return typ + ":h_" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// body is what the hash covers: the entry without its hashes.
func (e *AuditEntry) body() []byte {
	c := *e
	c.PrevHash, c.Hash = "", ""
	b, _ := json.Marshal(c)
	return b
}

func chainHash(prev []byte, body []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(body)
	return h.Sum(nil)
}

// Record appends e, setting its ID, time (if zero) and hashes.
func (a *Auditor) Record(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	if e.Time.IsZero() {
		e.Time = a.now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	// Text as the store keeps it, so the indexed columns equal the content.
	for _, f := range []*string{&e.Actor, &e.Role, &e.Action, &e.Object, &e.From, &e.Result, &e.Detail} {
		*f = store.CleanText(*f)
	}
	_, err := a.st.AppendAudit(ctx, func(prev store.AuditRow) (store.AuditRow, error) {
		e.ID = prev.ID + 1
		e.PrevHash = base64.StdEncoding.EncodeToString(prev.Hash)
		body := e.body()
		h := chainHash(prev.Hash, body)
		e.Hash = base64.StdEncoding.EncodeToString(h)
		return store.AuditRow{Time: e.Time, Actor: e.Actor, Action: e.Action, Object: e.Object, Status: e.Status,
			Data: body, PrevHash: prev.Hash, Hash: h}, nil
	})
	if err != nil {
		return e, fmt.Errorf("privacy: append to the audit log: %w", err)
	}
	return e, nil
}

// Entries returns entries matching q, decoded.
func (a *Auditor) Entries(ctx context.Context, q store.AuditQuery) ([]AuditEntry, error) {
	rows, err := a.st.AuditLog(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]AuditEntry, 0, len(rows))
	for _, r := range rows {
		var e AuditEntry
		if err := json.Unmarshal(r.Data, &e); err != nil {
			return nil, fmt.Errorf("privacy: audit entry %d does not decode: %w", r.ID, err)
		}
		e.PrevHash, e.Hash = base64.StdEncoding.EncodeToString(r.PrevHash), base64.StdEncoding.EncodeToString(r.Hash)
		out = append(out, e)
	}
	return out, nil
}

// VerifyError says where the audit chain breaks.
type VerifyError struct {
	ID     int64
	Reason string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("audit log entry %d: %s", e.ID, e.Reason)
}

// Verify walks the whole log and checks every link: IDs consecutive from
// 1, each entry's PrevHash the hash of the one before, each Hash the hash
// of its content, and the columns used for filtering equal to the content.
// It returns the number of entries checked, and a *VerifyError at the
// first entry altered, removed or inserted.
func (a *Auditor) Verify(ctx context.Context) (int64, error) {
	var prev []byte
	var n int64
	for {
		rows, err := a.st.AuditLog(ctx, store.AuditQuery{AfterID: n, Limit: 1000})
		if err != nil {
			return n, err
		}
		if len(rows) == 0 {
			return n, nil
		}
		for _, r := range rows {
			if err := verifyRow(r, n+1, prev); err != nil {
				return n, err
			}
			prev, n = r.Hash, r.ID
		}
	}
}

func verifyRow(r store.AuditRow, wantID int64, prev []byte) error {
	bad := func(format string, args ...any) error {
		return &VerifyError{ID: r.ID, Reason: fmt.Sprintf(format, args...)}
	}
	var e AuditEntry
	switch {
	case r.ID != wantID:
		return bad("expected entry %d here: entries were removed", wantID)
	case !bytes.Equal(r.PrevHash, prev):
		return bad("its link to the entry before does not match: an entry was removed, inserted or altered")
	case !bytes.Equal(r.Hash, chainHash(prev, r.Data)):
		return bad("its content does not match its hash: it was altered")
	case json.Unmarshal(r.Data, &e) != nil:
		return bad("its content is not an audit entry")
	case e.ID != r.ID || e.Actor != r.Actor || e.Action != r.Action || e.Object != r.Object || e.Status != r.Status || !e.Time.Equal(r.Time):
		return bad("its indexed fields differ from its content: they were altered")
	}
	return nil
}
