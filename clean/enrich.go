package clean

import (
	"bytes"
	"net/netip"
	"slices"

	"github.com/mosaic-cdp/mosaic"
)

// contextIP looks context.ip up in the geolocation database, adding
// context.location (unless the client sent one: a phone's GPS knows better
// than an address), then truncates or removes the address as the source
// says. ms are the context's members; it returns them changed and whether
// they were.
func (vc *valueCleaner) contextIP(ms []member) ([]member, bool) {
	lookup := vc.geo != nil && !vc.disabled[StepGeo]
	if !lookup && (vc.ip == "" || vc.ip == IPKeep) {
		return ms, false
	}
	ipAt, hasLocation := -1, false
	for i := range ms {
		switch string(ms[i].Key) {
		case "ip":
			ipAt = i
		case "location":
			hasLocation = true
		}
	}
	if ipAt < 0 {
		return ms, false
	}
	raw := ms[ipAt].Val
	if lookup && !hasLocation && (vc.ip == "" || vc.ip == IPKeep) {
		// The address stays as it is: a visitor's address seen before
		// needs no parsing.
		if loc, ok := vc.geo.cachedJSON(raw); ok {
			if loc == nil {
				return ms, false
			}
			return append(ms, member{Key: locationKey, Val: loc}), true
		}
	}
	addr, err := netip.ParseAddr(unquoted(raw))
	if err != nil {
		if vc.ip == IPRemove { // whatever it holds, the source wants no address kept
			return append(ms[:ipAt], ms[ipAt+1:]...), true
		}
		return ms, false
	}
	changed := false
	if lookup && !hasLocation {
		if loc := vc.geo.locationJSONOf(raw, addr); loc != nil {
			ms = append(ms, member{Key: locationKey, Val: loc})
			changed = true
		}
	}
	switch vc.ip {
	case IPTruncate:
		if t := quote(truncateIP(addr).String()); string(t) != string(raw) {
			ms[ipAt].Val, changed = t, true
		}
	case IPRemove:
		ms, changed = append(ms[:ipAt], ms[ipAt+1:]...), true
	}
	return ms, changed
}

var locationKey = []byte("location")

// unquoted returns the JSON string raw without its quotes, or "" when raw
// is not a string without escapes (an IP address needs none).
func unquoted(raw []byte) string {
	s, _ := unquotedBytes(raw)
	return string(s)
}

// unquotedBytes is unquoted without the copy: ok is false when raw is not
// a string without escapes.
func unquotedBytes(raw []byte) (s []byte, ok bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	s = raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	return s, true
}

// Enrich adds what context.userAgent says to a stored event: context.browser
// ({name, version}), context.os ({name, version}) and context.device ({type:
// desktop, mobile, tablet, bot or other; manufacturer; model}), each only
// where the client sent none (mobile SDKs know their device better than a
// user-agent string does). It is meant for where events are read from the
// log: an uncached parse costs about a millisecond, too much for the
// request path, and the log keeps the event as it was sent, so a better
// parser later improves old events too. The source's user_agent step
// switch applies. ev.Message is replaced, never changed in place.
func (c *Cleaner) Enrich(ev *mosaic.Event) {
	if msg, ok := c.AppendEnriched(nil, ev); ok {
		ev.Message = msg
	}
}

// AppendEnriched is Enrich for a reader that copies the messages it keeps
// into a buffer of its own anyway: when enrichment adds something, it
// appends the enriched message to dst and returns dst with true, and the
// message is copied once instead of twice. Otherwise it returns dst as it
// was and false: ev.Message is the message to keep. ev is not changed.
func (c *Cleaner) AppendEnriched(dst []byte, ev *mosaic.Event) ([]byte, bool) {
	if c.opts.UserAgents == nil || ev.IsSystem() {
		return dst, false
	}
	st := c.state(ev.SourceID)
	if st.vc.disabled[StepUserAgent] {
		return dst, false
	}
	return enrichAgent(c.opts.UserAgents, dst, ev.Message)
}

// enrichAgent appends msg with the parsed context.userAgent added to dst,
// and returns dst as it was and false when there is nothing to add.
func enrichAgent(ua *UserAgents, dst, msg []byte) ([]byte, bool) {
	// Server-side and imported events carry no user agent: a vectorised
	// search spares them the scan.
	if !bytes.Contains(msg, userAgentKey) {
		return dst, false
	}
	if out, ok, done := enrichCompact(ua, dst, msg); done {
		return out, ok
	}
	return enrichMembers(ua, dst, msg)
}

// enrichMembers is enrichAgent for any message: it splits the message and
// its context into members and writes the whole message again.
func enrichMembers(ua *UserAgents, dst, msg []byte) ([]byte, bool) {
	var buf [memberHint]member
	top, ok := members(msg, buf[:0])
	if !ok {
		return dst, false
	}
	ctx := -1
	for i := range top {
		if string(top[i].Key) == "context" {
			ctx = i
		}
	}
	if ctx < 0 {
		return dst, false
	}
	var cbuf [memberHint]member
	cms, ok := members(top[ctx].Val, cbuf[:0])
	if !ok {
		return dst, false
	}
	var agent []byte // nil: none
	var has [3]bool  // browser, os, device
	for i := range cms {
		switch string(cms[i].Key) {
		case "userAgent":
			agent = cms[i].Val
		case "browser":
			has[0] = true
		case "os":
			has[1] = true
		case "device":
			has[2] = true
		}
	}
	e, ok := ua.entryOfJSON(agent)
	if !ok {
		return dst, false
	}
	n := len(cms)
	for i, v := range [3][]byte{e.browser, e.os, e.device} {
		if v != nil && !has[i] {
			cms = append(cms, member{Key: agentKeys[i], Val: v})
		}
	}
	if len(cms) == n {
		return dst, false
	}
	extra := 0
	for _, m := range cms[n:] {
		extra += len(m.Key) + len(m.Val) + 4
	}
	return writeWithContext(slices.Grow(dst, len(msg)+extra), top, ctx, cms), true
}

var userAgentKey = []byte(`"userAgent"`)

var agentKeys = [3][]byte{[]byte("browser"), []byte("os"), []byte("device")}
