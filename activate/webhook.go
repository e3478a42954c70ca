package activate

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxResponseBody is how much of a receiver's answer is read.
const maxResponseBody = 64 << 10

// Webhook is the kind that POSTs JSON to a URL, signed as Standard Webhooks
// specifies.
type Webhook struct{}

// Type implements Kind.
func (Webhook) Type() string { return "webhook" }

// Description implements Kind.
func (Webhook) Description() string {
	return "HTTP POST of JSON to a URL, signed with Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature)."
}

// Spec implements Kind.
func (Webhook) Spec() []Setting {
	return []Setting{
		{Name: "url", Type: TypeURL, Required: true, Description: "The http:// or https:// URL messages are POSTed to. Private, loopback and link-local addresses are refused unless allowed by --webhook-allow-cidr."},
		{Name: "headers", Type: TypeHeaders, Secret: true, Description: "Extra request headers, e.g. an Authorization header the receiver expects. Values are never shown again."},
	}
}

// Open implements Kind.
func (Webhook) Open(d *Destination, env Env) (Sender, error) {
	key, err := DecodeSecret(d.Secret)
	if err != nil {
		return nil, err
	}
	return &webhookSender{url: d.Settings.String("url"), headers: d.Settings.Headers("headers"), key: key, env: env}, nil
}

type webhookSender struct {
	url     string
	headers map[string]string
	key     []byte
	env     Env
}

// DecodeSecret returns the HMAC key of a whsec_ secret.
func DecodeSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, errors.New("the signing secret is not whsec_ followed by base64")
	}
	return key, nil
}

// Sign returns the webhook-signature value of a message: "v1," and the
// base64 HMAC-SHA256 of id.timestamp.body.
func Sign(key []byte, id string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// body returns the request body and webhook-id of msgs: the message itself
// when alone, else a batch whose ID derives from its members' IDs, so a
// retry of the same batch keeps its ID.
func batchBody(msgs []Message) (id string, body []byte) {
	if len(msgs) == 1 {
		return msgs[0].ID, msgs[0].Payload
	}
	h := sha256.New()
	var b bytes.Buffer
	b.WriteString(`{"type":"batch","data":[`)
	for i, m := range msgs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(m.Payload)
		h.Write([]byte(m.ID + "\n"))
	}
	b.WriteString("]}")
	return "batch_" + hex.EncodeToString(h.Sum(nil)[:12]), b.Bytes()
}

// Send implements Sender.
func (w *webhookSender) Send(ctx context.Context, msgs []Message) error {
	id, body := batchBody(msgs)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return &SendError{Err: err}
	}
	for k, v := range w.headers {
		req.Header.Set(k, v)
	}
	ts := w.env.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mosaic-Webhooks/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Sign(w.key, id, ts, body))
	resp, err := w.env.HTTP.Do(req)
	if err != nil {
		return &SendError{Err: err}
	}
	defer resp.Body.Close()
	answer, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	return classify(resp, answer, readErr, w.env.Now())
}

// classify turns a receiver's answer into nil (2xx) or a SendError.
func classify(resp *http.Response, answer []byte, readErr error, now time.Time) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil // done, even if the body was cut short
	}
	se := &SendError{Code: code, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now)}
	snippet := strings.TrimSpace(string(answer[:min(len(answer), 200)]))
	switch {
	case code == http.StatusGone:
		se.Gone = true
		se.Err = errors.New("the receiver answered 410 Gone: it wants no more messages")
	case code >= 300 && code < 400:
		se.Err = fmt.Errorf("redirect to %q not followed: update the destination's URL", resp.Header.Get("Location"))
	default:
		se.Err = fmt.Errorf("%s %s", http.StatusText(code), snippet)
	}
	if readErr != nil {
		se.Err = fmt.Errorf("%w (reading the answer: %v)", se.Err, readErr)
	}
	return se
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Close implements Sender.
func (w *webhookSender) Close() error { return nil }
