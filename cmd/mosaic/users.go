package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"
	"time"
)

// UsersCmd manages the users who sign in to the admin API and UI.
type UsersCmd struct {
	Add    UsersAddCmd    `cmd:"" help:"Add a user with a role and a password."`
	List   UsersListCmd   `cmd:"" help:"List users."`
	Remove UsersRemoveCmd `cmd:"" help:"Remove a user; their sessions end at once."`
	Passwd UsersPasswdCmd `cmd:"" help:"Set a user's password; their sessions end at once."`
	Role   UsersRoleCmd   `cmd:"" help:"Change a user's role or access to personal data."`
}

// passwordFlag reads a password without putting it on the command line,
// where other users of the machine and the shell history would see it.
type passwordFlag struct {
	PasswordFile string `help:"Read the password from the first line of this file ('-' for standard input). Default: ask on the terminal." placeholder:"FILE"`
}

// read returns the password: from the file, or typed at the terminal with
// echo off.
func (p passwordFlag) read(stderr io.Writer) (string, error) {
	var r io.Reader = os.Stdin
	switch p.PasswordFile {
	case "", "-":
		if p.PasswordFile == "" {
			fmt.Fprint(stderr, "Password (at least 10 characters): ")
			if restore := noEcho(); restore != nil {
				defer func() { restore(); fmt.Fprintln(stderr) }()
			}
		}
	default:
		f, err := os.Open(p.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		defer f.Close()
		r = f
	}
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password given: type one, or pass --password-file")
	}
	return pw, nil
}

// noEcho turns off the terminal's echo while a password is typed, if
// standard input is a terminal; it returns how to turn it back on.
func noEcho() func() {
	if fi, err := os.Stdin.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	stty := func(arg string) error {
		cmd := exec.Command("stty", arg)
		cmd.Stdin = os.Stdin
		return cmd.Run()
	}
	if stty("-echo") != nil {
		return nil
	}
	return func() { _ = stty("echo") }
}

type userJSON struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	PII       bool      `json:"pii"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// UsersAddCmd adds a user.
type UsersAddCmd struct {
	ClientFlags
	passwordFlag
	Name string `arg:"" help:"Login name, e.g. ann."`
	Role string `help:"admin, privacy, marketer or viewer (see docs/privacy.md#roles)." required:""`
	PII  bool   `help:"Let a marketer or viewer see personal data unmasked."`
}

// Run adds the user.
func (c *UsersAddCmd) Run(g *Globals) error {
	pw, err := c.read(g.Stderr)
	if err != nil {
		return err
	}
	var u userJSON
	if err := c.call(context.Background(), "POST", "/api/v1/users", map[string]any{"name": c.Name, "role": c.Role, "pii": c.PII, "password": pw}, &u); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Added user %q with role %s. They sign in with POST /api/v1/login.\n", u.Name, u.Role)
	return nil
}

// UsersListCmd lists users.
type UsersListCmd struct {
	ClientFlags
	JSON bool `help:"Print JSON."`
}

// Run lists the users.
func (c *UsersListCmd) Run(g *Globals) error {
	var out struct {
		Users []userJSON `json:"users"`
	}
	if err := c.call(context.Background(), "GET", "/api/v1/users", nil, &out); err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(g.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out.Users)
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tPII\tCREATED")
	for _, u := range out.Users {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", u.Name, u.Role, u.PII, u.CreatedAt.Format(time.DateTime))
	}
	return tw.Flush()
}

// UsersRemoveCmd removes a user.
type UsersRemoveCmd struct {
	ClientFlags
	Name string `arg:""`
}

// Run removes the user.
func (c *UsersRemoveCmd) Run(g *Globals) error {
	if err := c.call(context.Background(), "DELETE", "/api/v1/users/"+url.PathEscape(c.Name), nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Removed user %q.\n", c.Name)
	return nil
}

// UsersPasswdCmd sets a user's password.
type UsersPasswdCmd struct {
	ClientFlags
	passwordFlag
	Name string `arg:""`
}

// Run sets the password.
func (c *UsersPasswdCmd) Run(g *Globals) error {
	pw, err := c.read(g.Stderr)
	if err != nil {
		return err
	}
	if err := c.call(context.Background(), "PATCH", "/api/v1/users/"+url.PathEscape(c.Name), map[string]any{"password": pw}, nil); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Set the password of %q; their sessions have ended.\n", c.Name)
	return nil
}

// UsersRoleCmd changes a user's role.
type UsersRoleCmd struct {
	ClientFlags
	Name string `arg:""`
	Role string `arg:"" help:"admin, privacy, marketer or viewer."`
	PII  *bool  `help:"Grant (--pii) or withdraw (--pii=false) access to personal data."`
}

// Run changes the role.
func (c *UsersRoleCmd) Run(g *Globals) error {
	body := map[string]any{"role": c.Role}
	if c.PII != nil {
		body["pii"] = *c.PII
	}
	var u userJSON
	if err := c.call(context.Background(), "PATCH", "/api/v1/users/"+url.PathEscape(c.Name), body, &u); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "User %q now has role %s (personal data: %v).\n", u.Name, u.Role, u.PII)
	return nil
}
