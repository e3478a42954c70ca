package collect

import (
	"context"

	"github.com/mosaic-cdp/mosaic"
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
	if err := decodeBatch(&rs.sc, &rs.dec, batch, h.lim); err != nil {
		return IngestResult{}, err, true
	}
	now := h.opts.Now()
	rs.norm.newID, rs.norm.lim = h.opts.NewMessageID, h.lim
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
func (h *Handler) clean(src *mosaic.Source, typ string, msg []byte) ([]byte, *mosaic.Error) {
	if h.opts.Cleaner == nil {
		return msg, nil
	}
	return h.opts.Cleaner.Clean(src, typ, msg)
}
