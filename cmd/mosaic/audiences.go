package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// AudiencesCmd groups the audience commands.
type AudiencesCmd struct {
	Create  AudiencesCreateCmd  `cmd:"" help:"Create an audience from a condition in the text form."`
	List    AudiencesListCmd    `cmd:"" help:"List audiences with their sizes."`
	Members AudiencesMembersCmd `cmd:"" help:"Print an audience's members."`
	Preview AudiencesPreviewCmd `cmd:"" help:"Count the profiles a condition selects, without saving it."`
	Explain AudiencesExplainCmd `cmd:"" help:"Explain why a profile is or is not in an audience."`
	Delete  AudiencesDeleteCmd  `cmd:"" help:"Delete an audience."`
	Traits  ComputedTraitsCmd   `cmd:"" name:"traits" help:"Manage computed traits."`
}

type statusJSON struct {
	State    string  `json:"state"`
	Progress float64 `json:"progress"`
}

type audienceJSON struct {
	ID            string     `json:"id"`
	Key           string     `json:"key"`
	Name          string     `json:"name"`
	ConditionText string     `json:"condition_text"`
	Size          int        `json:"size"`
	Status        statusJSON `json:"status"`
}

// AudiencesCreateCmd creates an audience.
type AudiencesCreateCmd struct {
	ClientFlags
	Key         string `arg:"" help:"Key of the audience: lower-case letters, digits and _, e.g. nl_buyers."`
	Where       string `required:"" help:"The condition in the text form, e.g. 'trait country = \"NL\" and count(event \"Order Completed\" within 30d) >= 2'."`
	Name        string `help:"A readable name."`
	Description string `help:"What the audience is for."`
}

// Run creates the audience.
func (c *AudiencesCreateCmd) Run(g *Globals) error {
	body := map[string]any{"key": c.Key, "name": c.Name, "description": c.Description, "condition": c.Where}
	var a audienceJSON
	if err := c.call(context.Background(), "POST", "/api/v1/audiences", body, &a); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Created audience %s (%s)\n  condition: %s\n  status:    %s (backfilling over every profile)\n", a.Key, a.ID, a.ConditionText, a.Status.State)
	return nil
}

// AudiencesListCmd lists audiences.
type AudiencesListCmd struct {
	ClientFlags
}

// Run prints one line per audience.
func (c *AudiencesListCmd) Run(g *Globals) error {
	var out struct {
		Audiences []audienceJSON `json:"audiences"`
	}
	if err := c.call(context.Background(), "GET", "/api/v1/audiences", nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "%-24s  %10s  %-16s  %s\n", "KEY", "SIZE", "STATUS", "CONDITION")
	for _, a := range out.Audiences {
		status := a.Status.State
		if status != "live" {
			status = fmt.Sprintf("%s %.0f%%", status, 100*a.Status.Progress)
		}
		fmt.Fprintf(g.Stdout, "%-24s  %10d  %-16s  %s\n", a.Key, a.Size, status, a.ConditionText)
	}
	return nil
}

// AudiencesMembersCmd prints members.
type AudiencesMembersCmd struct {
	ClientFlags
	Key   string `arg:"" help:"Key or ID of the audience."`
	Limit int    `help:"At most this many members (all pages up to it)." default:"1000"`
	CSV   bool   `name:"csv" help:"Print CSV (profile_id,since) instead of lines."`
}

// Run prints the members, following pages.
func (c *AudiencesMembersCmd) Run(g *Globals) error {
	if c.CSV {
		fmt.Fprintln(g.Stdout, "profile_id,since")
	}
	after, printed := "", 0
	for printed < c.Limit {
		var page struct {
			Members []struct {
				ProfileID string    `json:"profile_id"`
				Since     time.Time `json:"since"`
			} `json:"members"`
			Total int    `json:"total"`
			Next  string `json:"next"`
		}
		q := url.Values{"limit": {fmt.Sprint(min(c.Limit-printed, 10000))}, "after": {after}}
		if err := c.call(context.Background(), "GET", "/api/v1/audiences/"+url.PathEscape(c.Key)+"/members?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		if printed == 0 && !c.CSV {
			fmt.Fprintf(g.Stdout, "%d members\n", page.Total)
		}
		for _, m := range page.Members {
			sep := "  since "
			if c.CSV {
				sep = ","
			}
			fmt.Fprintf(g.Stdout, "%s%s%s\n", m.ProfileID, sep, m.Since.Format(time.RFC3339))
		}
		printed += len(page.Members)
		if page.Next == "" || len(page.Members) == 0 {
			return nil
		}
		after = page.Next
	}
	return nil
}

// AudiencesPreviewCmd previews a condition.
type AudiencesPreviewCmd struct {
	ClientFlags
	Where string `required:"" help:"The condition in the text form."`
}

// Run prints the count and a sample.
func (c *AudiencesPreviewCmd) Run(g *Globals) error {
	var out struct {
		Count  int      `json:"count"`
		Sample []string `json:"sample"`
	}
	if err := c.call(context.Background(), "POST", "/api/v1/audiences/preview", map[string]any{"condition": c.Where}, &out); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "%d profiles match\n", out.Count)
	if len(out.Sample) > 0 {
		fmt.Fprintf(g.Stdout, "sample: %s\n", strings.Join(out.Sample, " "))
	}
	return nil
}

// AudiencesExplainCmd explains a membership.
type AudiencesExplainCmd struct {
	ClientFlags
	Key     string `arg:"" help:"Key or ID of the audience."`
	Profile string `arg:"" help:"Profile ID or identifier, e.g. user_id:42 or email:jane@example.com."`
}

// Run prints the explanation as indented JSON.
func (c *AudiencesExplainCmd) Run(g *Globals) error {
	var out json.RawMessage
	path := "/api/v1/audiences/" + url.PathEscape(c.Key) + "/explain/" + url.PathEscape(c.Profile)
	if err := c.call(context.Background(), "GET", path, nil, &out); err != nil {
		return err
	}
	return printIndented(g.Stdout, out)
}

func printIndented(w io.Writer, raw json.RawMessage) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// AudiencesDeleteCmd deletes an audience.
type AudiencesDeleteCmd struct {
	ClientFlags
	Key string `arg:"" help:"Key or ID of the audience."`
}

// Run deletes the audience.
func (c *AudiencesDeleteCmd) Run(g *Globals) error {
	if err := c.call(context.Background(), "DELETE", "/api/v1/audiences/"+url.PathEscape(c.Key), nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Deleted audience %s\n", c.Key)
	return nil
}

// ComputedTraitsCmd groups the computed trait commands.
type ComputedTraitsCmd struct {
	Create ComputedTraitsCreateCmd `cmd:"" help:"Create a computed trait."`
	List   ComputedTraitsListCmd   `cmd:"" help:"List computed traits."`
}

// ComputedTraitsCreateCmd creates a computed trait.
type ComputedTraitsCreateCmd struct {
	ClientFlags
	Key      string `arg:"" help:"Key of the trait, e.g. orders_30d."`
	Event    string `required:"" help:"The event aggregated, e.g. 'Order Completed'."`
	Agg      string `help:"count, sum, avg, min, max, first, last, most_frequent or distinct_count." default:"count"`
	Property string `help:"The event property aggregated (all but count)."`
	Within   string `help:"Sliding window like 30d or 12h; empty for all time."`
	Where    string `help:"Filter on event properties, e.g. 'category = \"shoes\"'."`
}

// Run creates the trait.
func (c *ComputedTraitsCreateCmd) Run(g *Globals) error {
	body := map[string]any{"key": c.Key, "event": c.Event, "agg": c.Agg, "property": c.Property, "within": c.Within}
	if c.Where != "" {
		body["where"] = c.Where
	}
	var out struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if err := c.call(context.Background(), "POST", "/api/v1/computed-traits", body, &out); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Created computed trait %s (%s), backfilling from the event history\n", out.Key, out.ID)
	return nil
}

// ComputedTraitsListCmd lists computed traits.
type ComputedTraitsListCmd struct {
	ClientFlags
}

// Run prints one line per trait.
func (c *ComputedTraitsListCmd) Run(g *Globals) error {
	var out struct {
		Traits []struct {
			Key      string     `json:"key"`
			Event    string     `json:"event"`
			Agg      string     `json:"agg"`
			Property string     `json:"property"`
			Within   string     `json:"within"`
			Status   statusJSON `json:"status"`
		} `json:"computed_traits"`
	}
	if err := c.call(context.Background(), "GET", "/api/v1/computed-traits", nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "%-24s  %-14s  %-12s  %-8s  %s\n", "KEY", "AGG", "PROPERTY", "WITHIN", "EVENT")
	for _, t := range out.Traits {
		within := t.Within
		if within == "" {
			within = "all time"
		}
		fmt.Fprintf(g.Stdout, "%-24s  %-14s  %-12s  %-8s  %s\n", t.Key, t.Agg, t.Property, within, t.Event)
	}
	return nil
}
