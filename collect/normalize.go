package collect

import (
	"net/netip"
	"time"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
)

// normalizer turns the messages of one request into the JSON the event log
// stores. It holds what every message of the request shares (the call type
// of the URL, the batch envelope, the server time) and scratch space; the
// output depends only on its inputs and on newID.
type normalizer struct {
	pathType   string        // the call type of the URL; "" for a batch
	env        *envelope     // the batch envelope; an empty one for a single call
	receivedAt time.Time     // the server clock when the request arrived
	newID      func() string // makes a messageId for messages without one
	lim        limits

	received  []byte     // receivedAt as a JSON string, formatted once per request
	gpc       bool       // the request carried Sec-GPC: 1; written as "gpc": true
	ip        netip.Addr // the client's address, for context.ip; invalid: none
	ipVal     []byte     // ip as a JSON string
	sentAt    time.Time  // env.sentAt parsed, if hasSentAt
	hasSentAt bool
	envCtx    []member // env.context's members
	envInt    []member // env.integrations' members
	sc        scanner  // for splitting the messages' own context/integrations
	scratch   []member
	fs        fields
	parts     Parts // of the message written last, for the cleaner
	// partMembers are the members the request's scanner kept of the
	// messages' parts (scanner.parts).
	partMembers []jsonscan.Member
	ctxTraits   []jsonscan.Member // and of their contexts' traits (scanner.ctxTraits)
	splitParts  bool              // the scanner kept them (a PartsCleaner is set)
	merged      []jsonscan.Member // the members of a merged context, for the cleaner
	kept        []int             // the envelope members the last merge kept
}

// accepted is what the handler needs to know about a normalised message.
type accepted struct {
	MessageID string
	Type      string
}

// reset prepares n for a request. It fails if the envelope's sentAt is not a
// date-time.
func (n *normalizer) reset(pathType string, env *envelope, receivedAt time.Time) *mosaic.Error {
	n.pathType, n.env, n.receivedAt = pathType, env, receivedAt.UTC()
	n.received = appendTime(n.received[:0], n.receivedAt)
	n.hasSentAt = false
	n.envCtx, n.envInt = objectMembers(&n.sc, env.context.val, n.envCtx[:0]), objectMembers(&n.sc, env.integrations.val, n.envInt[:0])
	n.appendIPMember(n.ip)
	if m := &env.sentAt; m.val != nil && m.val[0] != 'n' {
		t, err := parseTimeField(m, "sentAt")
		if err != nil {
			err.Message = "In the batch envelope: " + err.Message
			return err
		}
		n.sentAt, n.hasSentAt = t, true
	}
	return nil
}

// objectMembers splits a validated object into its members; nil and null
// give none.
func objectMembers(sc *scanner, obj []byte, dst []member) []member {
	if len(obj) == 0 || obj[0] != '{' {
		return dst
	}
	dst, _, _, _ = sc.members(obj, 0, dst) // validated already
	return dst
}

// normalize validates one message and appends its normalised JSON to dst.
// On a problem it returns dst unchanged and the error to quarantine the
// message with. Checks run in the order of the table in doc.go; the first
// problem found is reported.
func (n *normalizer) normalize(dst []byte, it *item, members []member) ([]byte, accepted, *mosaic.Error) {
	if err := n.checkShape(it); err != nil {
		return dst, accepted{}, err
	}
	fs := &n.fs
	if err := collectFields(fs, members); err != nil {
		return dst, accepted{}, err
	}
	typ, err := n.callType(fs)
	if err != nil {
		return dst, accepted{}, err
	}
	if err := checkRequired(typ, fs); err != nil {
		return dst, accepted{}, err
	}
	ts, err := n.timestamp(fs)
	if err != nil {
		return dst, accepted{}, err
	}
	a := accepted{Type: typ}
	if fs.present(fMessageID) && len(fs[fMessageID].val) > 2 {
		a.MessageID = fs.str(fMessageID)
	} else {
		a.MessageID = n.newID()
	}
	return n.write(dst, a, ts, members), a, nil
}

// checkShape checks what can be seen without looking into the message.
func (n *normalizer) checkShape(it *item) *mosaic.Error {
	switch {
	case it.notObject:
		return mosaic.Errorf(mosaic.EINVALIDFIELD,
			"This batch item is %s; each item must be a JSON object (a Segment message).", kindName(it.raw))
	case len(it.raw) > n.lim.MaxEventBytes:
		return mosaic.Errorf(mosaic.ETOOLARGE,
			"The message takes %d bytes; the limit is %d. Send less data in properties, traits or context.",
			len(it.raw), n.lim.MaxEventBytes)
	case it.depth > n.lim.MaxDepth:
		return mosaic.Errorf(mosaic.ETOODEEP,
			"The message nests objects and arrays %d levels deep; the limit is %d. Flatten it.",
			it.depth, n.lim.MaxDepth)
	}
	return nil
}

// callType returns the message's call type: the URL's for a single call,
// the item's "type" in a batch.
func (n *normalizer) callType(fs *fields) (string, *mosaic.Error) {
	if n.pathType != "" {
		return n.pathType, nil
	}
	if !fs.present(fType) {
		return "", mosaic.Errorf(mosaic.EUNKNOWNTYPE,
			`This batch item has no "type". Set it to identify, track, page, screen, group or alias.`)
	}
	if t := callTypeOf(fs[fType]); t != "" {
		return t, nil
	}
	t := fs.str(fType)
	return "", mosaic.Errorf(mosaic.EUNKNOWNTYPE,
		"Type %q is not a Segment call type. Use identify, track, page, screen, group or alias.", truncate(t, 64))
}

// callTypeOf returns the call type a "type" field names, or "". It
// compares the bytes, so the common case allocates nothing.
func callTypeOf(m *member) string {
	raw := m.val[1 : len(m.val)-1]
	if m.flags&flagEscape != 0 {
		raw = []byte(unquote(raw))
	}
	switch string(raw) {
	case mosaic.TypeIdentify:
		return mosaic.TypeIdentify
	case mosaic.TypeTrack:
		return mosaic.TypeTrack
	case mosaic.TypePage:
		return mosaic.TypePage
	case mosaic.TypeScreen:
		return mosaic.TypeScreen
	case mosaic.TypeGroup:
		return mosaic.TypeGroup
	case mosaic.TypeAlias:
		return mosaic.TypeAlias
	}
	return ""
}

// checkRequired checks the fields each call type needs.
func checkRequired(typ string, fs *fields) *mosaic.Error {
	switch {
	case typ == mosaic.TypeAlias && !fs.isID(fUserID):
		return mosaic.Errorf(mosaic.EMISSINGID,
			`An alias call needs "userId" (the new id) and "previousId" (the old one).`)
	case typ == mosaic.TypeAlias && !fs.isID(fPreviousID):
		return mosaic.Errorf(mosaic.EINVALIDFIELD,
			`An alias call needs "previousId": the anonymousId or userId the user had before.`)
	case typ != mosaic.TypeAlias && !fs.isID(fUserID) && !fs.isID(fAnonymousID):
		return mosaic.Errorf(mosaic.EMISSINGID,
			`The message has neither "userId" nor "anonymousId". Set at least one (a non-empty string).`)
	case typ == mosaic.TypeTrack && !(fs.present(fEvent) && len(fs[fEvent].val) > 2):
		return mosaic.Errorf(mosaic.EMISSINGEVENT,
			`A track call needs "event", the name of what happened (e.g. "Order Completed").`)
	case typ == mosaic.TypeGroup && !fs.isID(fGroupID):
		return mosaic.Errorf(mosaic.EINVALIDFIELD,
			`A group call needs "groupId", the id of the account or company.`)
	}
	return nil
}

// timestamp returns the message's timestamp corrected for the client's
// clock skew: receivedAt - (sentAt - timestamp), with the message's own
// sentAt or else the batch's. Without a timestamp it is receivedAt; without a
// sentAt the client's timestamp is kept. Future timestamps are not clamped,
// as Segment does not clamp them.
func (n *normalizer) timestamp(fs *fields) (time.Time, *mosaic.Error) {
	sentAt, hasSentAt := n.sentAt, n.hasSentAt
	if fs.present(fSentAt) {
		t, err := parseTimeField(fs[fSentAt], "sentAt")
		if err != nil {
			return time.Time{}, err
		}
		sentAt, hasSentAt = t, true
	}
	if !fs.present(fTimestamp) {
		return n.receivedAt, nil
	}
	ts, err := parseTimeField(fs[fTimestamp], "timestamp")
	if err != nil || !hasSentAt {
		return ts, err
	}
	ts = ts.Add(n.receivedAt.Sub(sentAt))
	if y := ts.Year(); y < 1 || y > 9999 {
		return time.Time{}, mosaic.Errorf(mosaic.EINVALIDFIELD,
			`Fields "timestamp" and "sentAt" are so far apart that the corrected timestamp falls in year %d. Check the client's clock and both values.`, y)
	}
	return ts, nil
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
