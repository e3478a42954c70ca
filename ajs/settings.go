package ajs

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// settings is the document Segment's CDN serves at
// /v1/projects/{writeKey}/settings and that analytics-next reads at start-up.
// Mosaic sends only what keeps the library talking to Mosaic alone:
//
//   - integrations holds just "Segment.io": any other entry would make the
//     library load device-mode destinations from Segment's CDN;
//   - its apiHost and protocol point event delivery back at this server;
//   - metrics.sampleRate 0 stops the library's usage counters, which it would
//     otherwise post to Segment's API every 30 seconds;
//   - the remaining fields are the empty values Segment sends for a source
//     with nothing configured, so the library loads no optional chunk.
type settings struct {
	Integrations              settingsIntegrations `json:"integrations"`
	Plan                      settingsPlan         `json:"plan"`
	EdgeFunction              struct{}             `json:"edgeFunction"`
	AnalyticsNextEnabled      bool                 `json:"analyticsNextEnabled"`
	MiddlewareSettings        struct{}             `json:"middlewareSettings"`
	EnabledMiddleware         struct{}             `json:"enabledMiddleware"`
	Metrics                   settingsMetrics      `json:"metrics"`
	LegacyVideoPluginsEnabled bool                 `json:"legacyVideoPluginsEnabled"`
	RemotePlugins             []struct{}           `json:"remotePlugins"`
}

type settingsIntegrations struct {
	SegmentIO segmentIOSettings `json:"Segment.io"`
}

// segmentIOSettings configures the library's delivery plugin. Events go to
// {protocol}://{apiHost}/{t,i,p,s,g,a}, each carrying apiKey as its writeKey
// and in Basic auth.
type segmentIOSettings struct {
	APIKey   string `json:"apiKey"`
	APIHost  string `json:"apiHost"`  // host[:port][/prefix]/v1, no scheme
	Protocol string `json:"protocol"` // "http" or "https"
}

// settingsPlan enables every call by default, as for a source without a
// tracking plan.
type settingsPlan struct {
	Track    map[string]planEntry `json:"track"`
	Identify map[string]planEntry `json:"identify"`
	Group    map[string]planEntry `json:"group"`
}

type planEntry struct {
	Enabled bool `json:"enabled"`
}

type settingsMetrics struct {
	SampleRate float64 `json:"sampleRate"`
}

// newSettings returns the settings for a source's write key, with events
// going to base (scheme and host[:port][/prefix] of this server).
func newSettings(writeKey string, base publicBase) settings {
	all := map[string]planEntry{"__default": {Enabled: true}}
	return settings{
		Integrations: settingsIntegrations{SegmentIO: segmentIOSettings{
			APIKey:   writeKey,
			APIHost:  base.hostPath + "/v1",
			Protocol: base.scheme,
		}},
		Plan:                 settingsPlan{Track: all, Identify: all, Group: all},
		AnalyticsNextEnabled: true,
		Metrics:              settingsMetrics{SampleRate: 0},
		RemotePlugins:        []struct{}{},
	}
}

// publicBase is where browsers reach this server: "http" or "https", and the
// host with optional port and path prefix, without a trailing slash.
type publicBase struct {
	scheme   string
	hostPath string
}

// parsePublicURL checks a configured public URL and splits it.
func parsePublicURL(raw string) (publicBase, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return publicBase{}, fmt.Errorf("public URL %q does not parse: %w; write it as https://host[:port][/prefix]", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return publicBase{}, fmt.Errorf("public URL %q must start with http:// or https://", raw)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return publicBase{}, fmt.Errorf("public URL %q must be only https://host[:port][/prefix], with no user, query or fragment", raw)
	}
	return publicBase{scheme: u.Scheme, hostPath: u.Host + strings.TrimRight(u.EscapedPath(), "/")}, nil
}

// errNoHost is returned for a request without a Host header (HTTP/1.0), whose
// public address cannot be known.
var errNoHost = errors.New("no Host header")

// requestBase derives the public base from a request: the scheme from
// X-Forwarded-Proto (set by a TLS-terminating proxy) or from the connection,
// the host from the Host header.
func requestBase(r *http.Request) (publicBase, error) {
	if r.Host == "" {
		return publicBase{}, errNoHost
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// A chain of proxies appends to the header; the first entry is the one
	// the browser used.
	first, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	switch p := strings.ToLower(strings.TrimSpace(first)); p {
	case "http", "https":
		scheme = p
	}
	return publicBase{scheme: scheme, hostPath: r.Host}, nil
}
