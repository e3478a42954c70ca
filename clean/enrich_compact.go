package clean

import (
	"slices"

	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
)

// Enrichment runs on every event a stage reads from the log, and splitting
// the message and its context into members to write them all again was
// most of its cost. Stored messages are compact (collect writes them
// without white space), and for those writing the members again gives back
// the same bytes, so the members enrichment adds can be spliced in before
// the context's closing brace with one copy of the message. Anything else
// goes the general way, which the differential tests and the fuzz target
// hold this one to.

// compactContext is what enrichCompact learns of a context object.
type compactContext struct {
	close int    // offset of its closing brace in the message
	empty bool   // it has no members
	agent []byte // the last userAgent value, nil if none
	has   [3]bool
}

// enrichCompact is enrichAgent for a compact message: done is false when
// msg is not one, and the general way must answer.
func enrichCompact(ua *UserAgents, dst, msg []byte) (out []byte, ok, done bool) {
	ctx, found, compact := compactMessageContext(msg)
	if !compact {
		return dst, false, false
	}
	if !found || ctx.agent == nil {
		return dst, false, true
	}
	e, ok := ua.entryOfJSON(ctx.agent)
	if !ok {
		return dst, false, true
	}
	extra := 0
	for i, v := range [3][]byte{e.browser, e.os, e.device} {
		if v != nil && !ctx.has[i] {
			extra += len(agentKeys[i]) + len(v) + 4
		}
	}
	if extra == 0 {
		return dst, false, true
	}
	out = slices.Grow(dst, len(msg)+extra)
	out = append(out, msg[:ctx.close]...)
	sep := !ctx.empty
	for i, v := range [3][]byte{e.browser, e.os, e.device} {
		if v == nil || ctx.has[i] {
			continue
		}
		if sep {
			out = append(out, ',')
		}
		sep = true
		out = append(out, '"')
		out = append(out, agentKeys[i]...)
		out = append(out, '"', ':')
		out = append(out, v...)
	}
	return append(out, msg[ctx.close:]...), true, true
}

// compactMessageContext reads the top-level members of msg for its last
// context. found is false when there is none or it is not an object (the
// general way then adds nothing either); compact is false when writing
// the members of msg or of that context again would not give the same
// bytes, or when this reading might differ from the general one.
func compactMessageContext(msg []byte) (ctx compactContext, found, compact bool) {
	if len(msg) < 2 || msg[0] != '{' || msg[len(msg)-1] != '}' {
		return ctx, false, false
	}
	if len(msg) == 2 {
		return ctx, false, true
	}
	for i := 1; ; {
		k, v, ok := compactKey(msg, i)
		if !ok {
			return ctx, false, false
		}
		var end int
		if string(msg[i+1:k-1]) == "context" {
			found = v < len(msg) && msg[v] == '{'
			if !found {
				end = jsonscan.SkipValue(msg, v)
			} else if ctx, end, ok = compactObject(msg, v); !ok {
				return ctx, false, false
			}
		} else {
			end = jsonscan.SkipValue(msg, v)
		}
		switch {
		case end == len(msg)-1 && msg[end] == '}':
			return ctx, found, true
		case end+1 < len(msg) && msg[end] == ',' && msg[end+1] == '"':
			i = end + 1
		default:
			return ctx, false, false
		}
	}
}

// compactKey reads the key at msg[i] of a compact object: k is the offset
// after its closing quote and v that of its value, just past the colon.
func compactKey(msg []byte, i int) (k, v int, ok bool) {
	if i >= len(msg) || msg[i] != '"' {
		return 0, 0, false
	}
	k = jsonscan.SkipValue(msg, i) // a string: msg[i] is a quote
	if k >= len(msg) || msg[k] != ':' || k+1 >= len(msg) || isJSONSpace(msg[k+1]) {
		return 0, 0, false
	}
	return k, k + 1, true
}

// compactObject reads the compact context object starting at msg[at] ('{'),
// returning the offset after its closing brace. Its reading must end where
// jsonscan.SkipValue would end the object, so a scalar member may hold none
// of the bytes that SkipValue takes for the start of a string or a
// container.
func compactObject(msg []byte, at int) (ctx compactContext, end int, ok bool) {
	if at+1 < len(msg) && msg[at+1] == '}' {
		return compactContext{close: at + 1, empty: true}, at + 2, true
	}
	for i := at + 1; ; {
		k, v, ok := compactKey(msg, i)
		if !ok {
			return ctx, 0, false
		}
		e := jsonscan.SkipValue(msg, v)
		if v < len(msg) && msg[v] != '"' && msg[v] != '{' && msg[v] != '[' && !plainScalar(msg[v:e]) {
			return ctx, 0, false
		}
		switch string(msg[i+1 : k-1]) {
		case "userAgent":
			ctx.agent = msg[v:e]
		case "browser":
			ctx.has[0] = true
		case "os":
			ctx.has[1] = true
		case "device":
			ctx.has[2] = true
		}
		switch {
		case e < len(msg) && msg[e] == '}':
			ctx.close = e
			return ctx, e + 1, true
		case e+1 < len(msg) && msg[e] == ',' && msg[e+1] == '"':
			i = e + 1
		default:
			return ctx, 0, false
		}
	}
}

// plainScalar reports whether a scalar's bytes hold no quote or opening
// bracket.
func plainScalar(b []byte) bool {
	for _, c := range b {
		if c == '"' || c == '{' || c == '[' {
			return false
		}
	}
	return true
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
