package activate

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is a connection refused by the SSRF guard.
var ErrForbiddenAddress = errors.New("destination address is private, loopback or link-local")

// Guard refuses connections to addresses inside the organisation's network
// (private, loopback, link-local, unspecified, multicast and the like) unless
// an allow-list admits them. It checks the address actually dialled, after
// DNS resolution, so a name that resolves (or re-resolves, as in DNS
// rebinding) to an internal address is refused too.
type Guard struct {
	Allow []netip.Prefix
}

// ParseAllowList parses comma-separated CIDRs such as "127.0.0.0/8,10.1.0.0/16".
func ParseAllowList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 127.0.0.0/8: %w", part, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Check returns ErrForbiddenAddress unless addr may be dialled.
func (g Guard) Check(addr netip.Addr) error {
	addr = addr.Unmap()
	for _, p := range g.Allow {
		if p.Contains(addr) {
			return nil
		}
	}
	if internal(addr) {
		return fmt.Errorf("%w: %s (allow it with --webhook-allow-cidr if the receiver is yours)", ErrForbiddenAddress, addr)
	}
	return nil
}

// internalPrefixes are ranges that are not the public internet beyond
// what netip's predicates cover.
var internalPrefixes = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64 can reach IPv4 internals
	netip.MustParsePrefix("2002::/16"),     // 6to4 embeds IPv4
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

func internal(a netip.Addr) bool {
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || !a.IsValid() {
		return true
	}
	for _, p := range internalPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// control is a net.Dialer Control hook: it runs after resolution, on the
// address about to be connected.
func (g Guard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse %q", ErrForbiddenAddress, address)
	}
	return g.Check(ap.Addr())
}

// Client returns an HTTP client whose connections pass the guard and which
// never follows redirects (a 3xx is a failed delivery: the user should fix
// the URL).
func (g Guard) Client(maxConns int) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: g.control}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the guard
		DialContext:           d.DialContext,
		MaxIdleConns:          maxConns * 4,
		MaxIdleConnsPerHost:   maxConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
