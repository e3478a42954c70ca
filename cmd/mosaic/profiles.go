package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
)

// ProfilesCmd groups the profile commands.
type ProfilesCmd struct {
	Split ProfilesSplitCmd `cmd:"" help:"Split an identifier (or a recorded merge) off a profile; the profiles are rebuilt from their events."`
}

// ProfilesSplitCmd splits a profile through the admin API.
type ProfilesSplitCmd struct {
	ClientFlags
	Ref        string `arg:"" help:"The profile: its ID (p…) or an identifier type:value, e.g. user_id:42."`
	Identifier string `help:"The identifier to separate, type:value, e.g. email:bob@example.com." xor:"what" required:""`
	Merge      string `help:"The recorded merge to undo, SEQ:PROFILE (the merge's seq and absorbed profile in the identity history)." xor:"what" required:""`
	DryRun     bool   `help:"Show the outcome without applying it."`
	JSON       bool   `help:"Print the API's JSON answer."`
}

type splitOutcomeJSON struct {
	DryRun  bool   `json:"dry_run"`
	Seq     uint64 `json:"seq"`
	Profile string `json:"profile"`
	Rule    struct {
		A, B struct{ Type, Value string }
	} `json:"rule"`
	Removed  []string `json:"removed"`
	Profiles []struct {
		ID          string `json:"id"`
		Identifiers []struct {
			Type, Value string
		} `json:"identifiers"`
		Traits      map[string]json.RawMessage `json:"traits"`
		EventCounts struct {
			Total int64 `json:"total"`
		} `json:"event_counts"`
	} `json:"profiles"`
}

// Run sends the split and prints the resulting profiles.
func (c *ProfilesSplitCmd) Run(g *Globals) error {
	body := map[string]any{"dry_run": c.DryRun}
	if c.Identifier != "" {
		typ, val, ok := strings.Cut(c.Identifier, ":")
		if !ok {
			return fmt.Errorf("--identifier %q: write type:value, e.g. email:bob@example.com", c.Identifier)
		}
		body["identifier"] = map[string]string{"type": typ, "value": val}
	} else {
		s, p, ok := strings.Cut(c.Merge, ":")
		seq, err := strconv.ParseUint(s, 10, 64)
		if !ok || err != nil {
			return fmt.Errorf("--merge %q: write SEQ:PROFILE, e.g. 12:p0000000000000c00, from the profile's identity history", c.Merge)
		}
		body["merge"] = map[string]any{"seq": seq, "absorbed": p}
	}
	var raw json.RawMessage
	if err := c.call(context.Background(), "POST", "/api/v1/profiles/"+url.PathEscape(c.Ref)+"/split", body, &raw); err != nil {
		return err
	}
	if c.JSON {
		_, err := fmt.Fprintf(g.Stdout, "%s\n", raw)
		return err
	}
	var out splitOutcomeJSON
	if err := json.Unmarshal(raw, &out); err != nil {
		return err
	}
	printSplit(g, &out)
	return nil
}

func printSplit(g *Globals, out *splitOutcomeJSON) {
	if out.DryRun {
		fmt.Fprintf(g.Stdout, "Dry run: nothing changed. Splitting %s would give:\n", out.Profile)
	} else {
		fmt.Fprintf(g.Stdout, "Split %s (log position %d). The profiles now are:\n", out.Profile, out.Seq)
	}
	for _, p := range out.Profiles {
		fmt.Fprintf(g.Stdout, "\n  %s  (%d events)\n", p.ID, p.EventCounts.Total)
		for _, id := range p.Identifiers {
			fmt.Fprintf(g.Stdout, "    %s:%s\n", id.Type, id.Value)
		}
		names := make([]string, 0, len(p.Traits))
		for n := range p.Traits {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(g.Stdout, "    %s = %s\n", n, p.Traits[n])
		}
	}
	fmt.Fprintf(g.Stdout, "\nNever linked again: %s:%s and %s:%s\n", out.Rule.A.Type, out.Rule.A.Value, out.Rule.B.Type, out.Rule.B.Value)
}

// IdentityCmd groups the identity commands.
type IdentityCmd struct {
	Rules IdentityRulesCmd `cmd:"" help:"Show or set the identity resolution rules."`
}

// IdentityRulesCmd shows the rules, or sets them from a JSON file.
type IdentityRulesCmd struct {
	ClientFlags
	Set string `help:"Set the rules from this JSON file (the shape 'mosaic identity rules' prints; '-' reads standard input). They apply to events from now on." placeholder:"FILE"`
}

// Run prints or sets the rules.
func (c *IdentityRulesCmd) Run(g *Globals) error {
	var rules json.RawMessage
	if c.Set == "" {
		if err := c.call(context.Background(), "GET", "/api/v1/identity/rules", nil, &rules); err != nil {
			return err
		}
	} else {
		data, err := readFileOrStdin(c.Set)
		if err != nil {
			return err
		}
		var body map[string]any
		if err := json.Unmarshal(data, &body); err != nil {
			return fmt.Errorf("%s is not a JSON object: %w", c.Set, err)
		}
		if err := c.call(context.Background(), "PUT", "/api/v1/identity/rules", body, &rules); err != nil {
			return err
		}
	}
	var pretty any
	_ = json.Unmarshal(rules, &pretty)
	b, _ := json.MarshalIndent(pretty, "", "  ")
	_, err := fmt.Fprintf(g.Stdout, "%s\n", b)
	return err
}

func readFileOrStdin(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}
