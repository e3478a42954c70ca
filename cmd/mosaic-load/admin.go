package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// adminTimeout bounds one admin API call.
const adminTimeout = 30 * time.Second

// adminClient talks to the admin API of a server on this machine.
type adminClient struct {
	base   *url.URL
	token  string
	client *http.Client
}

func newAdminClient(base *url.URL, token string) *adminClient {
	return &adminClient{base: base, token: token, client: newClient(2, adminTimeout)}
}

// sourceInfo is the answer to creating a source.
type sourceInfo struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	WriteKey string `json:"write_key"`
}

// createSource creates a source named name and returns its id and key.
func (a *adminClient) createSource(ctx context.Context, name string) (sourceInfo, error) {
	var src sourceInfo
	body, _ := json.Marshal(map[string]string{"name": name})
	err := a.do(ctx, http.MethodPost, "/api/v1/sources", body, http.StatusCreated, &src)
	if err == nil && (src.ID == "" || src.WriteKey == "") {
		err = fmt.Errorf("create source: the answer has no id or write_key")
	}
	return src, err
}

// eventsPage is one page of GET /api/v1/events, with only what verify needs.
type eventsPage struct {
	Events []struct {
		MessageID string `json:"messageId"`
	} `json:"events"`
	NextAfter uint64 `json:"next_after"`
	Head      uint64 `json:"head"`
}

// events reads the page of source's events after sequence number after.
func (a *adminClient) events(ctx context.Context, source string, after uint64, limit int) (*eventsPage, error) {
	q := url.Values{"source": {source}, "after": {strconv.FormatUint(after, 10)}, "limit": {strconv.Itoa(limit)}}
	var page eventsPage
	return &page, a.do(ctx, http.MethodGet, "/api/v1/events?"+q.Encode(), nil, http.StatusOK, &page)
}

// do makes one admin call and decodes the answer into out.
func (a *adminClient) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.base.String()+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (is the server running?)", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%s %s: HTTP %d: %s (check -admin-token)", method, path, resp.StatusCode, truncate(b, 300))
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, want, truncate(b, 300))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}
