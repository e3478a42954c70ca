package collect

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/mosaic-cdp/mosaic"
)

// headerWriteKey returns the write key of an "Authorization: Basic" header,
// or "" if the request has no Authorization header (the key may then be in
// the body). Segment documents base64("<key>:"); keys encoded without the
// colon are accepted too, as Segment does. The password is ignored.
func headerWriteKey(r *http.Request) (string, *mosaic.Error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", nil
	}
	scheme, cred, _ := strings.Cut(auth, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return "", mosaic.Errorf(mosaic.EUNAUTHORIZED,
			"The Tracking API takes a source write key, not an admin token: send HTTP Basic auth with the write key as user name and an empty password, or a \"writeKey\" field in the body.")
	case !strings.EqualFold(scheme, "Basic"):
		return "", mosaic.Errorf(mosaic.EUNAUTHORIZED,
			"Authorization scheme %q is not supported. Send HTTP Basic auth with the source's write key as user name and an empty password.", truncate(scheme, 32))
	}
	cred = strings.TrimSpace(cred)
	dec, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		if dec, err = base64.RawStdEncoding.DecodeString(cred); err != nil {
			return "", mosaic.Errorf(mosaic.EUNAUTHORIZED,
				"The Basic credentials are not base64. Send base64(\"<writeKey>:\").")
		}
	}
	user, _, _ := bytes.Cut(dec, []byte(":"))
	if len(user) == 0 {
		return "", errNoKey
	}
	return string(user), nil
}

var errNoKey = mosaic.Errorf(mosaic.EUNAUTHORIZED,
	"No write key. Send HTTP Basic auth with the source's write key as user name and an empty password, or a \"writeKey\" field in the body.")

// bodyWriteKey returns the write key given in the body's "writeKey" field.
func bodyWriteKey(env *envelope) (string, *mosaic.Error) {
	m := &env.writeKey
	if m.val == nil || string(m.val) == "null" {
		return "", errNoKey
	}
	switch {
	case m.val[0] != '"':
		return "", mosaic.Errorf(mosaic.EUNAUTHORIZED,
			"The body's \"writeKey\" must be the source's write key as a string, not %s.", kindName(m.val))
	case len(m.val) == 2:
		return "", errNoKey
	}
	return stringValue(m), nil
}

// source returns the source a write key belongs to.
func (h *Handler) source(ctx context.Context, key string) (*mosaic.Source, *mosaic.Error) {
	src, err := h.src.SourceByWriteKey(ctx, key)
	switch {
	case err == nil:
		return src, nil
	case mosaic.ErrorCode(err) == mosaic.ENOTFOUND:
		return nil, mosaic.Errorf(mosaic.EUNAUTHORIZED,
			"Unknown write key. Use the write key of an existing source (mosaic sources list); the key of a deleted source no longer works.")
	}
	h.opts.Log.Error("looking up a write key", "err", err)
	return nil, errStoreDown
}

var errStoreDown = mosaic.Errorf(mosaic.EUNAVAILABLE,
	"The server cannot check write keys right now. Nothing was stored; retry in a few seconds.")

// lenientMediaTypes are the Content-Types that SDKs put on JSON bodies:
// text/plain (browsers' sendBeacon and analytics.js, to avoid a preflight),
// application/x-www-form-urlencoded (the RudderStack Node SDK labels its
// gzipped JSON so, axios's default) and application/octet-stream. The body
// must still be JSON.
var lenientMediaTypes = []string{"application/json", "text/plain", "application/x-www-form-urlencoded", "application/octet-stream"}

// checkMediaType accepts JSON and the lenient media types, any +json type,
// and a missing Content-Type.
func checkMediaType(r *http.Request) *mosaic.Error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if slices.Contains(lenientMediaTypes, mt) || strings.HasSuffix(mt, "+json") {
		return nil
	}
	return mosaic.Errorf(mosaic.EUNSUPPORTED,
		"Content-Type %q is not supported. Send JSON as application/json (or text/plain).", truncate(ct, 64))
}

// readBody reads the request body into rs.body, inflating gzip, and returns
// it with the number of bytes that came over the wire.
func (h *Handler) readBody(rs *reqState, r *http.Request) ([]byte, int, *mosaic.Error) {
	limit := h.opts.MaxBodyBytes
	if r.ContentLength > int64(limit) {
		return nil, 0, h.tooLarge(int(r.ContentLength))
	}
	enc := strings.TrimSpace(r.Header.Get("Content-Encoding"))
	gz := strings.EqualFold(enc, "gzip") || strings.EqualFold(enc, "x-gzip")
	if !gz && enc != "" && !strings.EqualFold(enc, "identity") {
		return nil, 0, mosaic.Errorf(mosaic.EBADENCODING,
			"Content-Encoding %q is not supported. Send the body as it is, or gzip it.", truncate(enc, 32))
	}
	if n := int(r.ContentLength); n >= cap(rs.wire) {
		rs.wire = make([]byte, 0, n+1) // +1: room to see EOF without growing
	}
	raw, over, err := readLimited(rs.wire[:0], r.Body, limit)
	rs.wire = raw
	switch {
	case err != nil:
		return nil, len(raw), mosaic.Errorf(mosaic.EINVALID,
			"The body could not be read to its end (%v). Send it again.", err)
	case over:
		return nil, len(raw), h.tooLarge(len(raw))
	case !gz:
		return raw, len(raw), nil
	}
	body, merr := h.inflate(rs, raw)
	return body, len(raw), merr
}

// inflate gunzips raw into rs.body, stopping as soon as the output passes
// the body limit, so a gzip bomb costs no more than one big body.
func (h *Handler) inflate(rs *reqState, raw []byte) ([]byte, *mosaic.Error) {
	rs.zsrc.Reset(raw)
	zr, _ := h.gzip.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(&rs.zsrc)
	} else {
		err = zr.Reset(&rs.zsrc)
	}
	if err != nil {
		return nil, badGzip(err)
	}
	defer h.gzip.Put(zr)
	body, over, err := readLimited(rs.body[:0], zr, h.opts.MaxBodyBytes)
	rs.body = body
	switch {
	case over:
		return nil, mosaic.Errorf(mosaic.ETOOLARGE,
			"The gzip body inflates to more than %d bytes, the limit. Send smaller batches.", h.opts.MaxBodyBytes)
	case err != nil:
		return nil, badGzip(err)
	}
	return body, nil
}

func badGzip(err error) *mosaic.Error {
	return mosaic.Errorf(mosaic.EBADENCODING,
		"The body is marked Content-Encoding: gzip but is not valid gzip (%v). Compress it with gzip, or drop the header.", err)
}

func (h *Handler) tooLarge(n int) *mosaic.Error {
	return mosaic.Errorf(mosaic.ETOOLARGE,
		"The body takes %d bytes or more; the limit is %d. Send fewer messages per batch.", n, h.opts.MaxBodyBytes)
}

// readLimited appends r's content to dst until EOF, reading at most one
// byte past limit; over reports that r holds more than limit bytes.
func readLimited(dst []byte, r io.Reader, limit int) (b []byte, over bool, err error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):min(cap(dst), limit+1)])
		dst = dst[:len(dst)+n]
		switch {
		case len(dst) > limit:
			return dst, true, nil
		case err == io.EOF:
			return dst, false, nil
		case err != nil:
			return dst, false, err
		}
	}
}
