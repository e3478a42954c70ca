package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/alecthomas/kong"
)

// configLoader reads the JSON config file. Unlike kong.JSON it refuses keys
// that name no flag, so a typo in a config file is an error, not a silent
// default.
func configLoader(r io.Reader) (kong.Resolver, error) {
	var values map[string]any
	if err := json.NewDecoder(r).Decode(&values); err != nil {
		return nil, fmt.Errorf("config file is not a JSON object of flag values: %w", err)
	}
	inner, err := kong.JSON(strings.NewReader(mustJSON(values)))
	if err != nil {
		return nil, err
	}
	return &checkedResolver{Resolver: inner, values: values}, nil
}

type checkedResolver struct {
	kong.Resolver
	values map[string]any
}

// Resolve gives a flag its value from the file, unless one of the flag's
// environment variables is set: the environment beats the file.
func (c *checkedResolver) Resolve(ctx *kong.Context, parent *kong.Path, flag *kong.Flag) (any, error) {
	for _, env := range flag.Envs {
		if _, ok := os.LookupEnv(env); ok {
			return nil, nil
		}
	}
	return c.Resolver.Resolve(ctx, parent, flag)
}

// Validate reports config keys that are not flags of any command.
func (c *checkedResolver) Validate(app *kong.Application) error {
	known := map[string]bool{}
	_ = kong.Visit(app.Node, func(n kong.Visitable, next kong.Next) error {
		if f, ok := n.(*kong.Flag); ok {
			known[strings.ReplaceAll(f.Name, "-", "_")] = true
		}
		return next(nil)
	})
	var unknown []string
	for k := range c.values {
		if !known[strings.ReplaceAll(k, "-", "_")] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("config file has unknown keys %s; keys are flag names such as \"addr\" or \"data\" (see 'mosaic serve --help')", strings.Join(unknown, ", "))
	}
	return nil
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
