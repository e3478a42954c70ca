package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/alecthomas/kong"
)

// DestinationsCmd groups the destination commands; each calls the admin API.
type DestinationsCmd struct {
	Create      DestCreateCmd  `cmd:"" help:"Create a destination and print its signing secret (shown once)."`
	List        DestListCmd    `cmd:"" help:"List destinations."`
	Get         DestIDCmd      `cmd:"" help:"Show a destination as JSON."`
	Update      DestUpdateCmd  `cmd:"" help:"Replace a destination's configuration with a JSON file."`
	Delete      DestIDCmd      `cmd:"" help:"Delete a destination and its undelivered messages."`
	Test        DestIDCmd      `cmd:"" help:"Send a sample message and show the answer."`
	Pause       DestIDCmd      `cmd:"" help:"Pause deliveries; messages queue up."`
	Resume      DestIDCmd      `cmd:"" help:"Resume a paused or disabled destination."`
	Flush       DestIDCmd      `cmd:"" help:"Send what is queued now without waiting for a batch (a file export's export-now)."`
	Snapshot    DestIDCmd      `cmd:"" help:"Queue every current member of the destination's audiences (audience.entered messages marked as a snapshot)."`
	Stats       DestIDCmd      `cmd:"" help:"Show delivered, retrying, failed and consent-blocked counts and latency."`
	Deliveries  DestListDelCmd `cmd:"" help:"List recent deliveries with status, attempts and last error."`
	DeadLetters DestIDCmd      `cmd:"" name:"dead-letters" help:"List dead letters (retries exhausted)."`
	Replay      DestIDCmd      `cmd:"" help:"Queue every dead letter again."`
}

// DestCreateCmd creates a destination from flags or a JSON file.
type DestCreateCmd struct {
	ClientFlags
	Name     string   `arg:"" optional:"" help:"Name of the destination."`
	Type     string   `help:"Destination type: webhook, file or kafka." default:"webhook"`
	Set      []string `help:"A setting as name=value (repeatable); a value that is JSON (a number, a list, an object) is taken as such, e.g. --set url=https://hooks.example.com/mosaic --set batch_size=100." placeholder:"NAME=VALUE"`
	Purpose  []string `help:"Purpose the data is used for (repeatable): marketing, advertising, analytics, personalisation."`
	Source   []string `help:"Forward events from this source ID (repeatable; all sources if none but --event is given)."`
	Event    []string `help:"Forward events with this name (repeatable; all if none)."`
	Audience []string `help:"Send entries to and exits from this audience ID (repeatable)."`
	Hash     []string `help:"Send email and/or phone only as SHA-256 of the normalised value (repeatable)."`
	File     string   `help:"JSON file with the whole request body instead of the flags above ('-' for stdin)." type:"existingfile"`
}

// Run creates the destination.
func (c *DestCreateCmd) Run(g *Globals) error {
	body, err := c.body()
	if err != nil {
		return err
	}
	var out map[string]any
	if err := c.call(context.Background(), "POST", "/api/v1/destinations", body, &out); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Created destination %q\n  id:     %v\n  secret: %v\nKeep the secret: it verifies webhook signatures and is not shown again.\n", out["name"], out["id"], out["secret"])
	return nil
}

func (c *DestCreateCmd) body() (any, error) {
	if c.File != "" {
		return readJSONFile(c.File)
	}
	settings := map[string]any{}
	for _, kv := range c.Set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--set %q: write name=value", kv)
		}
		var x any
		if json.Unmarshal([]byte(v), &x) != nil {
			x = v
		}
		settings[k] = x
	}
	body := map[string]any{"name": c.Name, "type": c.Type, "settings": settings, "purposes": c.Purpose}
	if len(c.Source) > 0 || len(c.Event) > 0 {
		body["events"] = map[string]any{"sources": c.Source, "names": c.Event}
	}
	if len(c.Audience) > 0 {
		body["audiences"] = c.Audience
	}
	if len(c.Hash) > 0 {
		body["mapping"] = map[string]any{"hash": c.Hash}
	}
	return body, nil
}

func readJSONFile(path string) (any, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var v any
	if err := json.NewDecoder(r).Decode(&v); err != nil {
		return nil, fmt.Errorf("%s is not JSON: %w", path, err)
	}
	return v, nil
}

// DestListCmd lists destinations.
type DestListCmd struct{ ClientFlags }

// Run prints one line per destination.
func (c *DestListCmd) Run(g *Globals) error {
	var out struct {
		Destinations []struct{ ID, Name, Type, Status string } `json:"destinations"`
	}
	if err := c.call(context.Background(), "GET", "/api/v1/destinations", nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "%-36s  %-8s  %-9s  %s\n", "ID", "TYPE", "STATUS", "NAME")
	for _, d := range out.Destinations {
		fmt.Fprintf(g.Stdout, "%-36s  %-8s  %-9s  %s\n", d.ID, d.Type, d.Status, d.Name)
	}
	return nil
}

// DestUpdateCmd replaces a destination's configuration.
type DestUpdateCmd struct {
	ClientFlags
	ID   string `arg:"" help:"ID of the destination."`
	File string `arg:"" help:"JSON file with the new configuration ('-' for stdin); secret values shown as ******** keep their value."`
}

// Run updates the destination.
func (c *DestUpdateCmd) Run(g *Globals) error {
	body, err := readJSONFile(c.File)
	if err != nil {
		return err
	}
	var out any
	if err := c.call(context.Background(), "PUT", "/api/v1/destinations/"+url.PathEscape(c.ID), body, &out); err != nil {
		return err
	}
	return printJSON(g.Stdout, out)
}

// DestIDCmd is a command on one destination; which one is the command name.
type DestIDCmd struct {
	ClientFlags
	ID string `arg:"" help:"ID of the destination."`
}

// destRoutes maps a command to its method and path suffix.
var destRoutes = map[string][2]string{
	"get": {"GET", ""}, "delete": {"DELETE", ""}, "test": {"POST", "/test"}, "pause": {"POST", "/pause"},
	"resume": {"POST", "/resume"}, "flush": {"POST", "/flush"}, "stats": {"GET", "/stats"},
	"snapshot":     {"POST", "/snapshot"},
	"dead-letters": {"GET", "/dead-letters"}, "replay": {"POST", "/dead-letters/replay"},
}

// Run calls the route of the command and prints the answer.
func (c *DestIDCmd) Run(g *Globals, k *kong.Context) error {
	words := strings.Fields(k.Command()) // destinations <name> <id>
	route := destRoutes[words[1]]
	var out any
	if err := c.call(context.Background(), route[0], "/api/v1/destinations/"+url.PathEscape(c.ID)+route[1], nil, &out); err != nil {
		return err
	}
	if out == nil {
		fmt.Fprintf(g.Stdout, "Deleted destination %s\n", c.ID)
		return nil
	}
	return printJSON(g.Stdout, out)
}

// DestListDelCmd lists deliveries.
type DestListDelCmd struct {
	ClientFlags
	ID     string `arg:"" help:"ID of the destination."`
	Status string `help:"Only deliveries with this status: pending, delivered, dead or blocked." enum:",pending,delivered,dead,blocked" default:""`
	Limit  int    `help:"At most this many, newest first." default:"20"`
}

// Run prints the deliveries as JSON.
func (c *DestListDelCmd) Run(g *Globals) error {
	q := url.Values{"limit": {fmt.Sprint(c.Limit)}}
	if c.Status != "" {
		q.Set("status", c.Status)
	}
	var out any
	if err := c.call(context.Background(), "GET", "/api/v1/destinations/"+url.PathEscape(c.ID)+"/deliveries?"+q.Encode(), nil, &out); err != nil {
		return err
	}
	return printJSON(g.Stdout, out)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
