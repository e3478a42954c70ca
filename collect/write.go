package collect

import (
	"bytes"
	"time"
	"unicode/utf8"
)

// write appends the normalised message: "type" and "messageId" first, then
// the client's fields in their order and byte for byte (context,
// integrations, properties, traits and any unknown field included), then
// the fields the server sets. Known fields given twice appear once, with
// the last value, which is what any JSON reader would have seen.
func (n *normalizer) write(dst []byte, a accepted, ts time.Time, members []member) []byte {
	fs := &n.fs
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
	}
	if len(n.envCtx) > 0 {
		dst = n.merge(dst, `,"context":`, n.envCtx, fs[fContext])
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
	if own != nil && own.val[0] == '{' {
		n.scratch = objectMembers(&n.sc, own.val, n.scratch)
		inner = bytes.TrimSpace(own.val[1 : len(own.val)-1])
	}
	sep := false
	for i := range env {
		if hasKey(n.scratch, &env[i]) {
			continue
		}
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
