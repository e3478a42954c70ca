package collect

import (
	"bytes"
	"time"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
)

// write appends the normalised message: "type" and "messageId" first, then
// the client's fields in their order and byte for byte (context,
// integrations, properties, traits and any unknown field included), then
// the fields the server sets. Known fields given twice appear once, with
// the last value, which is what any JSON reader would have seen.
func (n *normalizer) write(dst []byte, a accepted, ts time.Time, members []member) []byte {
	fs := &n.fs
	n.parts = Parts{ReceivedAt: n.receivedAt}
	dst = append(dst, `{"type":"`...)
	dst = append(dst, a.Type...)
	dst = append(dst, `","messageId":`...)
	if m := fs[fMessageID]; m != nil && m.val[0] == '"' && len(m.val) > 2 {
		dst = append(dst, m.val...)
	} else {
		dst = appendString(dst, a.MessageID)
	}
	for i := range members {
		m := &members[i]
		if n.serverSet(m.f) || (m.f != fOther && fs[m.f] != m) {
			continue
		}
		dst = append(dst, ',')
		dst = appendMember(dst, m)
		n.notePart(m, len(dst)-len(m.val), len(dst))
	}
	if len(n.envCtx) > 0 {
		start := len(dst) + len(`,"context":`)
		dst = n.merge(dst, `,"context":`, n.envCtx, fs[fContext])
		n.parts.Context = [2]int{start, len(dst)}
		n.parts.ContextMembers = n.mergedMembers(fs[fContext])
		if n.parts.ContextMembers == nil {
			n.parts.ContextTraitsMembers = nil
		}
	}
	if len(n.envInt) > 0 {
		dst = n.merge(dst, `,"integrations":`, n.envInt, fs[fIntegrations])
	}
	if fs.present(fTimestamp) {
		dst = append(dst, `,"originalTimestamp":`...)
		dst = append(dst, fs[fTimestamp].val...)
	}
	dst = append(dst, `,"timestamp":`...)
	dst = appendTime(dst, ts)
	if fs.present(fSentAt) {
		dst = append(dst, `,"sentAt":`...)
		dst = append(dst, fs[fSentAt].val...)
	} else if n.hasSentAt {
		dst = append(dst, `,"sentAt":`...)
		dst = append(dst, n.env.sentAt.val...)
	}
	if n.gpc {
		dst = append(dst, `,"gpc":true`...)
	}
	dst = append(dst, `,"receivedAt":`...)
	dst = append(dst, n.received...)
	return append(dst, '}')
}

// notePart records where the value of a traits, properties or context
// member m was written, and the members the scanner kept of it, for the
// cleaner; keys written with escapes are left for it to find (it does not
// recognise them).
func (n *normalizer) notePart(m *member, start, end int) {
	if m.keyFlags&flagEscape != 0 {
		return
	}
	switch m.f {
	case fTraits:
		n.parts.Traits = [2]int{start, end}
		n.parts.TraitsMembers = partMembers(n.partMembers, m)
	case fProperties:
		n.parts.Properties = [2]int{start, end}
		n.parts.PropertiesMembers = partMembers(n.partMembers, m)
	case fContext:
		n.parts.Context = [2]int{start, end}
		n.parts.ContextMembers = partMembers(n.partMembers, m)
		n.parts.ContextTraits, n.parts.ContextTraitsMembers = ctxTraitsMembers(n.ctxTraits, m)
	}
}

// serverSet reports whether the normaliser writes field f itself rather
// than copying the client's value. writeKey is dropped: it authenticated
// the request and the source ID says the same. gpc is only ever the
// server's record of the request's Sec-GPC header, never a client's.
func (n *normalizer) serverSet(f field) bool {
	switch f {
	case fType, fMessageID, fTimestamp, fSentAt, fOriginalTimestamp, fReceivedAt, fWriteKey, fGPC:
		return true
	case fContext:
		return len(n.envCtx) > 0
	case fIntegrations:
		return len(n.envInt) > 0
	}
	return false
}

// appendMember appends "key":value, with the key as it was sent.
func appendMember(dst []byte, m *member) []byte {
	dst = append(dst, '"')
	dst = append(dst, m.key...)
	dst = append(dst, '"', ':')
	return append(dst, m.val...)
}

// merge appends name and the object that results from merging the batch's
// object env (context or integrations) into the message's own: the
// message's keys win. Values are copied byte for byte.
func (n *normalizer) merge(dst []byte, name string, env []member, own *member) []byte {
	dst = append(dst, name...)
	dst = append(dst, '{')
	n.scratch = n.scratch[:0]
	var inner []byte
	var split []jsonscan.Member
	if own != nil && own.val[0] == '{' {
		// Split already, for the cleaner: not read again.
		if split = partMembers(n.partMembers, own); split == nil {
			n.scratch = objectMembers(&n.sc, own.val, n.scratch)
		}
		inner = bytes.TrimSpace(own.val[1 : len(own.val)-1])
	}
	n.kept = n.kept[:0]
	sep := false
	for i := range env {
		if split != nil && hasPartKey(split, &env[i]) || split == nil && hasKey(n.scratch, &env[i]) {
			continue
		}
		n.kept = append(n.kept, i)
		if sep {
			dst = append(dst, ',')
		}
		dst = appendMember(dst, &env[i])
		sep = true
	}
	if len(inner) > 0 {
		if sep {
			dst = append(dst, ',')
		}
		dst = append(dst, inner...)
	}
	return append(dst, '}')
}

// hasPartKey is hasKey for the members the scanner kept.
func hasPartKey(ms []jsonscan.Member, k *member) bool {
	for i := range ms {
		if bytes.Equal(ms[i].Key, k.key) {
			return true
		}
		if (k.keyFlags&flagEscape != 0 || bytes.IndexByte(ms[i].Key, '\\') >= 0) && unquote(ms[i].Key) == k.name() {
			return true
		}
	}
	return false
}

// mergedMembers returns the members of the context merge just wrote, for
// the cleaner: the batch's (or the server's) members the message's own
// context does not override, then the message's own; nil when the scanner
// kept no members (no PartsCleaner) or own is not an object. merge must
// have run, leaving the members it kept in n.kept.
func (n *normalizer) mergedMembers(own *member) []jsonscan.Member {
	if own != nil && !own.split {
		return nil
	}
	if own == nil && !n.splitParts {
		return nil
	}
	ms := n.merged[:0]
	for _, i := range n.kept {
		ms = append(ms, jsonscan.Member{Key: n.envCtx[i].key, Val: n.envCtx[i].val})
	}
	if own != nil {
		if i, ts := ctxTraitsMembers(n.ctxTraits, own); ts != nil {
			n.parts.ContextTraits, n.parts.ContextTraitsMembers = len(ms)+i, ts
		}
		ms = append(ms, partMembers(n.partMembers, own)...)
	}
	n.merged = ms
	return ms[:len(ms):len(ms)]
}

// hasKey reports whether ms has a member with the same key as k, comparing
// the keys' values, not their escaped forms.
func hasKey(ms []member, k *member) bool {
	for i := range ms {
		m := &ms[i]
		if (m.keyFlags|k.keyFlags)&flagEscape == 0 {
			if bytes.Equal(m.key, k.key) {
				return true
			}
		} else if m.name() == k.name() {
			return true
		}
	}
	return false
}

// appendString appends s as a JSON string. Only server-made values go
// through it (generated messageIds), so the simple escaping suffices.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r < 0x20 || r == utf8.RuneError:
			dst = append(dst, `\ufffd`...)
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return append(dst, '"')
}
