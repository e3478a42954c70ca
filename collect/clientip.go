package collect

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP returns the address of the client that sent r: the peer's, or,
// when the peer is a trusted proxy, the nearest address in X-Forwarded-For
// that is not one (the ones further left could be anything the client
// wrote). It is invalid when the peer address cannot be read.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	ip = ip.Unmap().WithZone("")
	if !inPrefixes(ip, trusted) {
		return ip
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return ip // a hop that is not an address: trust nothing further left
			}
			ip = hop.Unmap().WithZone("")
			if !inPrefixes(ip, trusted) {
				return ip
			}
		}
	}
	return ip
}

func inPrefixes(ip netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// appendIPMember adds the request's address to the batch context as "ip",
// unless the context has one: merged like any batch context member, so a
// message's own context.ip still wins (as Segment and RudderStack fill
// context.ip from the request only when the client did not).
func (n *normalizer) appendIPMember(ip netip.Addr) {
	if !ip.IsValid() {
		return
	}
	for i := range n.envCtx {
		if n.envCtx[i].name() == "ip" {
			return
		}
	}
	n.ipVal = append(n.ipVal[:0], '"')
	n.ipVal = ip.AppendTo(n.ipVal)
	n.ipVal = append(n.ipVal, '"')
	n.envCtx = append(n.envCtx, member{key: ipKey, val: n.ipVal})
}

var ipKey = []byte("ip")
