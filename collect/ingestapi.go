package collect

import (
	"context"
	"net/netip"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
)

// Cleaner standardises every accepted message before it is stored (package
// clean implements it). It must be safe for concurrent use.
type Cleaner interface {
	// Clean returns msg, a normalised message of src with call type typ, as
	// it is to be stored: msg itself when nothing changed, or a new slice
	// (msg must not be modified in place; it may be reused after Clean
	// returns). A non-nil error quarantines the message with the error's
	// code and message instead of storing it.
	Clean(src *mosaic.Source, typ string, msg []byte) ([]byte, *mosaic.Error)
}

// Parts locates the values of a normalised message's traits, properties
// and context: byte offsets [start, end) in the message, {0, 0} for a part
// the message does not have. The message's top level is compact JSON,
// each of these members appears once, and its key is written plainly
// (without escapes).
//
// The members fields hold the members of each part's object as the
// Tracking API read them while validating the request (collect splits
// them in that same pass): the same bytes as the message's, possibly in
// another buffer; for a context merged with the batch's context or the
// server's record of the client's address, the merged context's members.
// A nil members field means collect kept none (the part is not an
// object); the cleaner then splits it itself. ContextTraitsMembers are
// likewise the members of
// context.traits, the object value of ContextMembers[ContextTraits]. The
// cleaner may change the members' elements.
//
// ReceivedAt is when the request arrived, by the Tracking API's clock:
// the cleaner may use it as the time for its caches instead of reading
// the clock for every message.
type Parts struct {
	Traits, Properties, Context [2]int

	TraitsMembers, PropertiesMembers, ContextMembers []jsonscan.Member
	ContextTraits                                    int
	ContextTraitsMembers                             []jsonscan.Member

	ReceivedAt time.Time

	// Buf is room the cleaner may write a changed message into, from
	// Buf[:0]. A PartsCleaner's answer other than msg is the Tracking
	// API's from then on: it copies the message before the next, and
	// gives the answer's memory back as the next message's Buf.
	Buf []byte
}

// PartsCleaner is a Cleaner that is told where the parts it reads are, so
// it need not read the whole message again to find them. Its answers must
// be Clean's.
type PartsCleaner interface {
	Cleaner
	CleanParts(src *mosaic.Source, typ string, msg []byte, parts Parts) ([]byte, *mosaic.Error)
}

// Rejection is a message the Tracking API did not store: its index in the
// batch, the error code and the reason. It is kept in the source's
// quarantine too.
type Rejection = rejection

// IngestResult is what Ingest did with a batch.
type IngestResult struct {
	Stored   int         // messages appended to the event log
	Rejected []Rejection // messages quarantined, in index order
}

// Ingest takes a batch body ({"batch": [messages]}) of src through exactly
// the path of POST /v1/batch — validation, normalisation, cleaning,
// quarantine of bad messages, a durable append — without HTTP. Imports use
// it, so a row from a file is checked like an event from an SDK. The limits
// on one message and on the batch's size apply; the body-size limit does
// not, since the caller builds the batch. The error is for the whole batch
// (nothing stored): invalid JSON, more than MaxBatchEvents messages, or an
// unavailable log or store.
func (h *Handler) Ingest(ctx context.Context, src *mosaic.Source, batch []byte) (IngestResult, *mosaic.Error) {
	rs := h.states.Get().(*reqState)
	res, err, reuse := h.ingestBatch(ctx, rs, src, batch)
	if reuse && rs.poolable() {
		h.states.Put(rs)
	}
	return res, err
}

func (h *Handler) ingestBatch(ctx context.Context, rs *reqState, src *mosaic.Source, batch []byte) (IngestResult, *mosaic.Error, bool) {
	rs.sc.splitParts = h.partsCleaner != nil
	if err := decodeBatch(&rs.sc, &rs.dec, batch, h.lim); err != nil {
		return IngestResult{}, err, true
	}
	now := h.opts.Now()
	rs.norm.newID, rs.norm.lim = h.opts.NewMessageID, h.lim
	// A pooled state keeps the last HTTP request's Sec-GPC and address,
	// which say nothing about this batch.
	rs.norm.gpc, rs.norm.ip = false, netip.Addr{}
	if err := rs.norm.reset("", &rs.dec.env, now); err != nil {
		return IngestResult{}, err, true
	}
	if quarantine := h.normalizeAll(rs, src, now); len(quarantine) > 0 {
		if err := h.quarantine(ctx, quarantine); err != nil {
			return IngestResult{}, err, true
		}
	}
	if len(rs.records) > 0 {
		if err := h.commit(ctx, rs.records); err != nil {
			return IngestResult{}, err, false
		}
	}
	res := IngestResult{Stored: len(rs.records)}
	if len(rs.rejected) > 0 {
		res.Rejected = append([]Rejection(nil), rs.rejected...)
	}
	return res, nil, true
}

// clean runs the configured Cleaner on one normalised message.
func (h *Handler) clean(src *mosaic.Source, typ string, msg []byte, parts *Parts) ([]byte, *mosaic.Error) {
	if h.opts.Cleaner == nil {
		return msg, nil
	}
	if h.partsCleaner != nil {
		return h.partsCleaner.CleanParts(src, typ, msg, *parts)
	}
	return h.opts.Cleaner.Clean(src, typ, msg)
}
