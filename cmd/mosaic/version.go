package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version and commit are set at build time with
// -ldflags "-X main.version=... -X main.commit=..." (see the Makefile).
var (
	version = "dev"
	commit  = ""
)

// VersionCmd prints the version.
type VersionCmd struct{}

// Run prints version, commit and Go version.
func (VersionCmd) Run(g *Globals) error {
	fmt.Fprintf(g.Stdout, "mosaic %s (commit %s, %s)\n", version, buildCommit(), runtime.Version())
	return nil
}

func buildCommit() string {
	if commit != "" {
		return commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
