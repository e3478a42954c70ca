package collect

import (
	"bytes"
	"context"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/respond"
)

// reqState is the memory one request needs, kept in a pool so the hot path
// allocates little.
type reqState struct {
	wire     []byte // the body as sent
	body     []byte // the body inflated, for gzip
	zsrc     bytes.Reader
	sc       scanner
	dec      decoded
	norm     normalizer
	out      []byte      // one normalised message
	cleaned  []byte      // the cleaner's last changed message, for its next
	recs     []byte      // every record of the request, back to back
	ends     []int       // where each record ends in recs
	records  [][]byte    // recs split into records, for Append
	rejected []rejection // for the response
}

// maxPooled is the largest buffer worth keeping for the next request; a
// rare huge request should not pin its memory forever.
const maxPooled = 4 << 20

func (rs *reqState) poolable() bool {
	return cap(rs.recs) <= maxPooled && cap(rs.wire) <= maxPooled && cap(rs.body) <= maxPooled && cap(rs.cleaned) <= maxPooled
}

// rejection is one rejected message, as the response lists it.
type rejection struct {
	Index   int    `json:"index"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

var (
	errBusy = mosaic.Errorf(mosaic.ETOOMANY,
		"The server is handling as many requests as it can. Retry after the delay in Retry-After.")
	errNoSpace = mosaic.Errorf(mosaic.EUNAVAILABLE,
		"The server's disk is full, so nothing was stored. Retry later; the operator is told in the server log.")
	errAppend = mosaic.Errorf(mosaic.EUNAVAILABLE,
		"The event log could not store the events, so none was acknowledged. Retry in a few seconds.")
)

// ingest handles a POST of a single call (typ set) or a batch (typ "").
func (h *Handler) ingest(w http.ResponseWriter, r *http.Request, typ string) int {
	select {
	case h.sem <- struct{}{}:
		defer func() { <-h.sem }()
	default:
		return h.fail(w, r, errBusy, nil)
	}
	key, err := headerWriteKey(r)
	if err != nil {
		return h.fail(w, r, err, nil)
	}
	var src *mosaic.Source
	if key != "" { // check the header's key before reading the body
		if src, err = h.source(r.Context(), key); err != nil {
			return h.fail(w, r, err, nil)
		}
	}
	if err := checkMediaType(r); err != nil {
		return h.fail(w, r, err, nil)
	}
	rs := h.states.Get().(*reqState)
	status, reuse := h.process(w, r, rs, typ, src)
	if reuse && rs.poolable() {
		h.states.Put(rs)
	}
	return status
}

// process reads, validates, stores and answers. reuse is false when rs may
// still be referenced (an Append that failed may hold the records).
func (h *Handler) process(w http.ResponseWriter, r *http.Request, rs *reqState, typ string, src *mosaic.Source) (status int, reuse bool) {
	body, wire, err := h.readBody(rs, r)
	h.metrics.bytes.Add(float64(wire))
	if err == nil {
		err = h.decode(rs, typ, body)
	}
	if err == nil && src == nil {
		src, err = h.bodySource(r.Context(), &rs.dec.env)
	}
	now := h.opts.Now()
	if err == nil {
		rs.norm.newID, rs.norm.lim = h.opts.NewMessageID, h.lim
		rs.norm.gpc = secGPC(r.Header)
		rs.norm.ip = netip.Addr{}
		if h.opts.RecordIP {
			rs.norm.ip = clientIP(r, h.opts.TrustedProxies)
		}
		err = rs.norm.reset(typ, &rs.dec.env, now)
	}
	if err != nil {
		return h.fail(w, r, err, nil), true
	}
	if quarantine := h.normalizeAll(rs, src, now); len(quarantine) > 0 {
		if err := h.quarantine(r.Context(), quarantine); err != nil {
			return h.fail(w, r, err, nil), true
		}
	}
	if len(rs.records) > 0 {
		if err := h.commit(r.Context(), rs.records); err != nil {
			return h.fail(w, r, err, nil), false
		}
	}
	return h.answer(w, r, rs, typ), true
}

func (h *Handler) decode(rs *reqState, typ string, body []byte) *mosaic.Error {
	rs.sc.splitParts = h.partsCleaner != nil
	if typ == "" {
		return decodeBatch(&rs.sc, &rs.dec, body, h.lim)
	}
	return decodeSingle(&rs.sc, &rs.dec, body)
}

// bodySource authenticates a request that had no Authorization header by
// the body's writeKey.
func (h *Handler) bodySource(ctx context.Context, env *envelope) (*mosaic.Source, *mosaic.Error) {
	key, err := bodyWriteKey(env)
	if err != nil {
		return nil, err
	}
	return h.source(ctx, key)
}

// normalizeAll normalises every message of the request into rs.records and
// returns the rejected ones for the quarantine, listing them in
// rs.rejected too.
func (h *Handler) normalizeAll(rs *reqState, src *mosaic.Source, now time.Time) []*mosaic.Rejected {
	rs.recs, rs.ends, rs.rejected = rs.recs[:0], rs.ends[:0], rs.rejected[:0]
	rs.norm.partMembers, rs.norm.ctxTraits, rs.norm.splitParts = rs.sc.parts, rs.sc.ctxTraits, rs.sc.splitParts
	var quarantine []*mosaic.Rejected
	for i := range rs.dec.items {
		it := &rs.dec.items[i]
		out, a, err := rs.norm.normalize(rs.out[:0], it, rs.dec.members[it.first:it.last])
		rs.out = out
		if err == nil {
			rs.norm.parts.Buf = rs.cleaned[:0]
			out, err = h.clean(src, a.Type, out, &rs.norm.parts)
			if len(out) > 0 && len(rs.out) > 0 && &out[0] != &rs.out[0] {
				rs.cleaned = out[:0]
			}
		}
		if err != nil {
			rs.rejected = append(rs.rejected, rejection{Index: i, Code: err.Code, Message: err.Message})
			quarantine = append(quarantine, &mosaic.Rejected{
				SourceID: src.ID, ReceivedAt: now, Index: i,
				Code: err.Code, Reason: err.Message, Raw: bytes.Clone(it.raw),
			})
			continue
		}
		ev := mosaic.Event{SourceID: src.ID, MessageID: a.MessageID, Type: a.Type, ReceivedAt: now, Message: out}
		if h.opts.Suppressed != nil && h.opts.Suppressed(&ev) {
			h.metrics.suppressed.Inc()
			continue // the person asked not to be processed: not stored
		}
		rs.recs, _ = ev.AppendBinary(rs.recs)
		rs.ends = append(rs.ends, len(rs.recs))
	}
	rs.records = rs.records[:0]
	start := 0
	for _, end := range rs.ends {
		rs.records = append(rs.records, rs.recs[start:end:end])
		start = end
	}
	return quarantine
}

// quarantine stores the rejected messages. It runs before the valid ones
// are appended: if it fails, the whole request fails and the client's retry
// loses nothing, where the other order would store the valid messages twice.
func (h *Handler) quarantine(ctx context.Context, rejected []*mosaic.Rejected) *mosaic.Error {
	if err := h.q.AddRejected(ctx, rejected); err != nil {
		h.opts.Log.Error("storing rejected events in quarantine", "err", err, "events", len(rejected))
		return mosaic.Errorf(mosaic.EUNAVAILABLE,
			"The server could not record the rejected messages, so nothing was stored. Retry in a few seconds.")
	}
	for _, r := range rejected {
		h.metrics.rejected.WithLabelValues(r.Code).Inc()
	}
	return nil
}

// commit appends the records to the event log and waits until they are
// durable.
func (h *Handler) commit(ctx context.Context, records [][]byte) *mosaic.Error {
	start := time.Now()
	_, err := h.app.Append(ctx, records)
	h.metrics.appendSeconds.Observe(time.Since(start).Seconds())
	switch {
	case err == nil:
		h.metrics.events.Add(float64(len(records)))
		return nil
	case h.isNoSpace(err):
		h.opts.Log.Error("event log: disk full; answering 503 until space is freed", "err", err)
		return errNoSpace
	case ctx.Err() != nil:
		h.opts.Log.Debug("request ended before its events were durable", "err", err)
		return errAppend
	}
	h.opts.Log.Error("appending to the event log", "err", err, "events", len(records))
	return errAppend
}

// answer writes the response of a request whose messages were all stored
// or quarantined.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, rs *reqState, typ string) int {
	switch {
	case len(rs.rejected) == 0:
		w.Header()["Content-Type"] = jsonType
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(successBody)
		return http.StatusOK
	case len(rs.records) > 0:
		respond.JSON(w, http.StatusOK, partialBody{Success: true, Rejected: rs.rejected})
		return http.StatusOK
	case typ != "":
		rej := rs.rejected[0]
		return h.fail(w, r, &mosaic.Error{Code: rej.Code, Message: rej.Message}, nil)
	}
	return h.fail(w, r, mosaic.Errorf(mosaic.EALLREJECTED,
		"Every message of the batch was rejected and nothing was stored; \"rejected\" says why for each. Fix them and send them again."),
		rs.rejected)
}

var successBody = []byte("{\"success\":true}\n")

// partialBody answers a batch of which some messages were rejected.
type partialBody struct {
	Success  bool        `json:"success"`
	Rejected []rejection `json:"rejected"`
}

// errorBody is respond.ErrorBody plus the rejected messages of a batch.
type errorBody struct {
	Error    respond.ErrorDetail `json:"error"`
	Rejected []rejection         `json:"rejected,omitempty"`
}

// fail writes an error response and returns its status. 429 and 503 carry
// Retry-After, which analytics.js and analytics-node honour.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err *mosaic.Error, rejected []rejection) int {
	status := respond.Status(err.Code)
	switch status {
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "5")
	}
	respond.JSON(w, status, errorBody{
		Error:    respond.ErrorDetail{Code: err.Code, Message: err.Message},
		Rejected: rejected,
	})
	return status
}

// secGPC reports whether the request carries the Global Privacy Control
// signal: a Sec-GPC header with exactly the value 1 (any of several, as
// the GPC specification says; other values count as absent).
func secGPC(h http.Header) bool {
	for _, v := range h.Values("Sec-GPC") {
		if strings.TrimSpace(v) == "1" {
			return true
		}
	}
	return false
}
