package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Events are built from templates so that the generator costs the server's
// machine as little CPU as possible: a template is a pre-rendered Segment
// message with holes for what must differ per event (messageId,
// anonymousId, timestamp). Filling one is a few copies, no JSON encoding.

// hole is a value filled in per event.
type hole uint8

const (
	holeMessageID hole = iota
	holeAnonymousID
	holeTimestamp
)

// holeMarks are the placeholder strings rendered into a template's JSON.
var holeMarks = map[string]hole{
	"@@MID@@":  holeMessageID,
	"@@ANON@@": holeAnonymousID,
	"@@TS@@":   holeTimestamp,
}

// template is one pre-rendered message: lits[0] hole[0] lits[1] … lits[n].
type template struct {
	kind  string // Segment call type, which names the single-call endpoint
	lits  []string
	holes []hole
}

// Catalog is an immutable set of templates and anonymous ids that any
// number of Generators share.
type Catalog struct {
	templates []template
	anonIDs   []string
}

// NewCatalog renders n templates (about a tenth identify, a quarter page,
// the rest track) and a pool of anonymous ids, from a seeded random source
// so a catalog is reproducible.
func NewCatalog(seed uint64, n int) *Catalog {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	c := &Catalog{anonIDs: make([]string, 20000)}
	for i := range c.anonIDs {
		c.anonIDs[i] = uuidString(rng)
	}
	for range n {
		c.templates = append(c.templates, mustTemplate(randomMessage(rng)))
	}
	return c
}

// randomMessage returns one message with placeholders, of a random type.
func randomMessage(rng *rand.Rand) map[string]any {
	switch p := rng.IntN(100); {
	case p < 10:
		return identifyMessage(rng)
	case p < 35:
		return pageMessage(rng)
	default:
		return trackMessage(rng)
	}
}

// mustTemplate renders msg and splits it at its placeholders. It panics on
// a message the generator itself built wrongly.
func mustTemplate(msg map[string]any) template {
	b, err := json.Marshal(msg)
	if err != nil {
		panic(fmt.Sprintf("render event template: %v", err))
	}
	t := template{kind: msg["type"].(string)}
	rest := string(b)
	for {
		i := strings.Index(rest, "@@")
		if i < 0 {
			break
		}
		j := strings.Index(rest[i+2:], "@@") + i + 4
		h, ok := holeMarks[rest[i:j]]
		if !ok {
			panic(fmt.Sprintf("render event template: unknown placeholder %q", rest[i:j]))
		}
		t.lits, t.holes = append(t.lits, rest[:i]), append(t.holes, h)
		rest = rest[j:]
	}
	t.lits = append(t.lits, rest)
	return t
}

// Generator fills templates with fresh messageIds. It is not safe for
// concurrent use: each worker has its own.
type Generator struct {
	cat *Catalog
	rng *rand.Rand
}

// NewGenerator returns a Generator drawing from c. Seed it from a true
// random source: messageIds must not repeat across runs, or the server
// would rightly drop the repeats as duplicates.
func (c *Catalog) NewGenerator(seed [32]byte) *Generator {
	return &Generator{cat: c, rng: rand.New(rand.NewChaCha8(seed))}
}

// Event is what the generator says about an event it appended.
type Event struct {
	MessageID string
	Kind      string // "track", "page" or "identify"
}

// AppendEvent appends one event's JSON to dst. ts is the event's timestamp,
// already formatted; a non-empty sentAt is added as the message's own
// sentAt, as SDKs do on single calls (in a batch it goes on the envelope).
func (g *Generator) AppendEvent(dst []byte, ts, sentAt string) ([]byte, Event) {
	t := &g.cat.templates[g.rng.IntN(len(g.cat.templates))]
	ev := Event{MessageID: uuidString(g.rng), Kind: t.kind}
	for i, h := range t.holes {
		dst = append(dst, t.lits[i]...)
		switch h {
		case holeMessageID:
			dst = append(dst, ev.MessageID...)
		case holeAnonymousID:
			dst = append(dst, g.cat.anonIDs[g.rng.IntN(len(g.cat.anonIDs))]...)
		case holeTimestamp:
			dst = append(dst, ts...)
		}
	}
	dst = append(dst, t.lits[len(t.lits)-1]...)
	if sentAt != "" {
		dst = append(dst[:len(dst)-1], `,"sentAt":"`...)
		dst = append(append(dst, sentAt...), `"}`...)
	}
	return dst, ev
}

// timeLayout is ISO-8601 in UTC with milliseconds, as the SDKs send it.
const timeLayout = "2006-01-02T15:04:05.000Z"

// formatTime formats t as the SDKs do.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// uuidString returns a random (version 4) UUID, as analytics-go uses for
// messageIds.
func uuidString(rng *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
