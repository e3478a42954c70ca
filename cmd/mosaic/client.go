package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ClientFlags locate a running server and authenticate to its admin API.
type ClientFlags struct {
	Server     string `help:"URL of the running Mosaic server." default:"http://127.0.0.1:8080"`
	AdminToken string `help:"Admin API token (prefer the environment variable MOSAIC_ADMIN_TOKEN)." placeholder:"TOKEN"`
}

// apiError is the error body every Mosaic API answers with.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// call sends a request to the admin API and decodes a JSON answer into out
// (if not nil). Errors carry the server's message.
func (c *ClientFlags) call(ctx context.Context, method, path string, body, out any) error {
	if c.AdminToken == "" {
		return fmt.Errorf("no admin token: set MOSAIC_ADMIN_TOKEN (printed when the server first started) or pass --admin-token")
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Server, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("bad --server %q: %w", c.Server, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the Mosaic server at %s (is 'mosaic serve' running? set --server or MOSAIC_SERVER): %w", c.Server, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e apiError
		if json.NewDecoder(resp.Body).Decode(&e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s (%s)", e.Error.Message, e.Error.Code)
		}
		return fmt.Errorf("server answered %s", resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// SourcesCmd groups the source commands.
type SourcesCmd struct {
	Create SourcesCreateCmd `cmd:"" help:"Create a source and print its write key."`
	List   SourcesListCmd   `cmd:"" help:"List sources."`
	Delete SourcesDeleteCmd `cmd:"" help:"Delete a source; its write key stops working."`
}

type sourceJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	WriteKey  string    `json:"write_key"`
	CreatedAt time.Time `json:"created_at"`
}

// SourcesCreateCmd creates a source.
type SourcesCreateCmd struct {
	ClientFlags
	Name string `arg:"" help:"Name of the source, e.g. website or ios-app."`
}

// Run creates the source.
func (c *SourcesCreateCmd) Run(g *Globals) error {
	var src sourceJSON
	if err := c.call(context.Background(), "POST", "/api/v1/sources", map[string]string{"name": c.Name}, &src); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Created source %q\n  id:        %s\n  write key: %s\n", src.Name, src.ID, src.WriteKey)
	return nil
}

// SourcesListCmd lists sources.
type SourcesListCmd struct {
	ClientFlags
}

// Run prints one line per source.
func (c *SourcesListCmd) Run(g *Globals) error {
	var out struct {
		Sources []sourceJSON `json:"sources"`
	}
	if err := c.call(context.Background(), "GET", "/api/v1/sources", nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "%-36s  %-20s  %-32s  %s\n", "ID", "NAME", "WRITE KEY", "CREATED")
	for _, s := range out.Sources {
		fmt.Fprintf(g.Stdout, "%-36s  %-20s  %-32s  %s\n", s.ID, s.Name, s.WriteKey, s.CreatedAt.Format(time.RFC3339))
	}
	return nil
}

// SourcesDeleteCmd deletes a source.
type SourcesDeleteCmd struct {
	ClientFlags
	ID string `arg:"" help:"ID of the source."`
}

// Run deletes the source.
func (c *SourcesDeleteCmd) Run(g *Globals) error {
	if err := c.call(context.Background(), "DELETE", "/api/v1/sources/"+url.PathEscape(c.ID), nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Deleted source %s\n", c.ID)
	return nil
}
