package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/clean"
)

// parseCIDRs reads a comma-separated list of networks; a bare address is a
// network of one.
func parseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or a CIDR such as 10.0.0.0/8", f)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// openEnrichment opens the geolocation database, if one is configured, and
// makes the user-agent parser, whose regexes are compiled at first use.
func (m *Main) openEnrichment() error {
	agents, err := clean.NewUserAgents(0)
	if err != nil {
		return fmt.Errorf("user-agent parser: %w", err)
	}
	m.agents = agents
	if m.Config.GeoipDB == "" {
		return nil
	}
	if m.geo, err = clean.OpenGeoDB(m.Config.GeoipDB); err != nil {
		return fmt.Errorf("--geoip-db: %w", err)
	}
	m.Logger.Info("geolocation database opened", "path", m.Config.GeoipDB, "database", m.geo.String())
	return nil
}

// enrich is the engine's Enrich hook: the cleaner's user-agent step, where
// events are read from the log.
func (m *Main) enrich() func([]byte, *mosaic.Event) ([]byte, bool) {
	if m.cleaner == nil {
		return nil
	}
	return m.cleaner.AppendEnriched
}
