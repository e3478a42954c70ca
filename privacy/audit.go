package privacy

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"strings"
	"sync"
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

	// Group commit: entries recorded while an append is under way wait
	// and go together in the next one, one transaction for all (see
	// Record, Enqueue).
	mu      sync.Mutex
	pending []*queued
	waiting int // entries of pending whose caller waits (Record)
	hurry   int // Flush calls waiting for pending entries
	writing bool
	idle    sync.Cond     // signalled when writing ends
	wake    chan struct{} // wakes a writer holding reads back (see readDelay)

	// macs keeps keyed HMACs for Pseudonym, which runs on every profile
	// lookup: keying one anew costs two hashes and their allocations.
	macs sync.Pool
}

// queued is an entry waiting for the next append; done (if not nil) gets
// its outcome.
type queued struct {
	e    AuditEntry
	done chan error
}

// NewAuditor returns an auditor. key is the installation secret that keys
// the pseudonyms of identifiers (see Pseudonym).
func NewAuditor(st store.AuditStore, key []byte, now func() time.Time) *Auditor {
	if now == nil {
		now = time.Now
	}
	a := &Auditor{st: st, key: key, now: now, wake: make(chan struct{}, 1)}
	a.idle.L = &a.mu
	return a
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
	m, _ := a.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, a.key)
	}
	m.Reset() // back to the keyed state
	m.Write([]byte(strings.ToLower(strings.TrimSpace(value))))
	var sum [sha256.Size]byte
	p := typ + ":h_" + base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0])[:18])
	a.macs.Put(m)
	return p
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

// Record appends e and returns it with its ID, time (if zero) and hashes
// set, once it is stored. Concurrent calls share one store transaction
// (group commit), so the audit log keeps up with many requests a second.
func (a *Auditor) Record(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	q := &queued{e: a.prepare(e), done: make(chan error, 1)}
	a.enqueue(q)
	select {
	case err := <-q.done:
		return q.e, err
	case <-ctx.Done():
		return q.e, ctx.Err()
	}
}

// Enqueue appends e without waiting for the store: for reads of people's
// data, which must be recorded but should not wait for the database's
// writer. The entry is stored with the next group commit, within readDelay
// (at once if a Record comes); Flush waits for it. A crash before then
// loses it.
func (a *Auditor) Enqueue(e AuditEntry) {
	a.enqueue(&queued{e: a.prepare(e)})
}

// Flush waits until every entry recorded or enqueued so far is stored (or
// failed).
func (a *Auditor) Flush() {
	a.mu.Lock()
	a.hurry++
	a.signal()
	for a.writing || len(a.pending) > 0 {
		a.idle.Wait()
	}
	a.hurry--
	a.mu.Unlock()
}

// signal wakes a writer that holds reads back, if one does.
func (a *Auditor) signal() {
	select {
	case a.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

func (a *Auditor) prepare(e AuditEntry) AuditEntry {
	if e.Time.IsZero() {
		e.Time = a.now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	// Text as the store keeps it, so the indexed columns equal the content.
	for _, f := range []*string{&e.Actor, &e.Role, &e.Action, &e.Object, &e.From, &e.Result, &e.Detail} {
		*f = store.CleanText(*f)
	}
	return e
}

// enqueue adds q to the next append and, unless one is under way, makes
// this goroutine the writer until nothing is pending.
func (a *Auditor) enqueue(q *queued) {
	a.mu.Lock()
	a.pending = append(a.pending, q)
	if q.done != nil {
		a.waiting++
		a.signal()
	}
	if a.writing {
		a.mu.Unlock()
		return
	}
	a.writing = true
	go a.write()
	a.mu.Unlock()
}

// auditTimeout bounds one group commit of the audit log.
const auditTimeout = 30 * time.Second

// readDelay is how long enqueued reads may wait for others to share their
// commit. Every commit is a transaction with its fsync: at 2,000 profile
// lookups a second, committing each group at once (a few reads each) took
// a third of the server's CPU; one commit per readDelay took 7 % of it. Nobody waits for these entries, so only a crash could tell.
const readDelay = 50 * time.Millisecond

// readBatch is how many reads are committed without waiting readDelay.
const readBatch = 1000

func (a *Auditor) write() {
	for {
		a.mu.Lock()
		if a.waiting == 0 && a.hurry == 0 && len(a.pending) > 0 && len(a.pending) < readBatch {
			a.mu.Unlock()
			// A wake-up left over from a commit that already took its
			// Record along ends this wait early: harmless, the reads go
			// in a smaller commit.
			select {
			case <-a.wake:
			case <-time.After(readDelay):
			}
			a.mu.Lock()
		}
		batch := a.pending
		a.pending, a.waiting = nil, 0
		if len(batch) == 0 {
			a.writing = false
			a.idle.Broadcast()
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
		err := a.append(ctx, batch)
		cancel()
		if err != nil {
			err = fmt.Errorf("privacy: append to the audit log: %w", err)
		}
		for _, q := range batch {
			if q.done != nil {
				q.done <- err
			}
		}
	}
}

// append stores batch in one transaction, chaining each entry to the one
// before.
func (a *Auditor) append(ctx context.Context, batch []*queued) error {
	_, err := a.st.AppendAudit(ctx, func(prev store.AuditRow) ([]store.AuditRow, error) {
		rows := make([]store.AuditRow, len(batch))
		for i, q := range batch {
			e := &q.e
			e.ID = prev.ID + 1
			e.PrevHash = base64.StdEncoding.EncodeToString(prev.Hash)
			body := e.body()
			h := chainHash(prev.Hash, body)
			e.Hash = base64.StdEncoding.EncodeToString(h)
			rows[i] = store.AuditRow{Time: e.Time, Actor: e.Actor, Action: e.Action, Object: e.Object, Status: e.Status,
				Data: body, PrevHash: prev.Hash, Hash: h}
			prev = rows[i]
			prev.ID = e.ID
		}
		return rows, nil
	})
	return err
}

// Entries returns entries matching q, decoded, including every entry
// enqueued before the call.
func (a *Auditor) Entries(ctx context.Context, q store.AuditQuery) ([]AuditEntry, error) {
	a.Flush() // entries enqueued before the call are listed
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
