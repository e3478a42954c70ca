package collect

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
)

var splitPartsSeeds = []string{
	`{"batch":[{"type":"track","userId":"u","event":"E","properties":{"a":1,"b":{"c":[1,"}"]}},"context":{"ip":"1.2.3.4","traits":{"email":"A@B.NL"}}}],"context":{"library":{"name":"x"},"ip":"9.9.9.9"}}`,
	`{"batch":[{"type":"identify","userId":"u","traits":{},"context":{},"properties":{ "x" : "y" , "\u0065mail":"q"}}]}`,
	`{"batch":[{"type":"identify","userId":"u","traits":{"a":1},"traits":{"b":2},"context":null}]}`,
	`{"batch":[{"type":"identify","userId":"u","traits":{"a":"\u0000"}},{"type":"identify","userId":"u","traits":{"a":{"b":{"c":{"d":1}}}}}]}`,
	`{"batch":[{"type":"identify","userId":"u","traits":{"a":1,}}]}`,
	`{"batch":[{"type":"identify","userId":"u","context":{"a":1`,
	`{"batch":[{"type":"track","userId":"u","event":"E","\u0063ontext":{"a":1},"context":{"traits":{"phone":"06"}}}],"context":{"\u0061":2}}`,
}

// FuzzSplitParts: keeping the parts' members (for a PartsCleaner) changes
// nothing collect answers or writes, and the members kept are those of the
// parts as written.
func FuzzSplitParts(f *testing.F) {
	for _, s := range splitPartsSeeds {
		f.Add([]byte(s), true)
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, recordIP bool) {
		plain := normalizeWith(body, recordIP, false)
		split := normalizeWith(body, recordIP, true)
		if len(plain) != len(split) {
			t.Fatalf("body %q: %d results without kept members, %d with", body, len(plain), len(split))
		}
		for i := range plain {
			if plain[i].out != split[i].out {
				t.Fatalf("body %q, result %d: %s without kept members, %s with", body, i, plain[i].out, split[i].out)
			}
			msg := []byte(split[i].out)
			p := split[i].parts
			for _, part := range []struct {
				name string
				span [2]int
				ms   []jsonscan.Member
			}{{"traits", p.Traits, p.TraitsMembers}, {"properties", p.Properties, p.PropertiesMembers}, {"context", p.Context, p.ContextMembers}} {
				if part.ms == nil {
					continue
				}
				want, _ := jsonscan.Members(msg[part.span[0]:part.span[1]], nil)
				if fmt.Sprintf("%q", part.ms) != fmt.Sprintf("%q", want) {
					t.Errorf("body %q, message %s: kept %s members %q, the message's are %q", body, msg, part.name, part.ms, want)
				}
			}
			if p.ContextTraitsMembers != nil {
				if p.ContextMembers == nil || p.ContextTraits >= len(p.ContextMembers) || string(p.ContextMembers[p.ContextTraits].Key) != "traits" {
					t.Fatalf("body %q: kept context.traits members at %d of context members %q", body, p.ContextTraits, p.ContextMembers)
				}
				want, _ := jsonscan.Members(p.ContextMembers[p.ContextTraits].Val, nil)
				if fmt.Sprintf("%q", p.ContextTraitsMembers) != fmt.Sprintf("%q", want) {
					t.Errorf("body %q: kept context.traits members %q, the message's are %q", body, p.ContextTraitsMembers, want)
				}
			}
		}
	})
}

type normalized struct {
	out   string // the message, or the error
	parts Parts
}

// normalizeWith decodes and normalises a batch body as the handler does,
// with or without the scanner keeping the parts' members.
func normalizeWith(body []byte, recordIP, split bool) []normalized {
	s := scanner{splitParts: split}
	var d decoded
	if err := decodeBatch(&s, &d, body, testLimits()); err != nil {
		return []normalized{{out: "decode: " + err.Code + ": " + err.Message}}
	}
	n := normalizer{newID: counterIDs(), lim: testLimits(), partMembers: s.parts, ctxTraits: s.ctxTraits, splitParts: split}
	if recordIP {
		n.ip = netip.MustParseAddr("192.0.2.1")
	}
	if err := n.reset("", &d.env, testNow); err != nil {
		return []normalized{{out: "reset: " + err.Code + ": " + err.Message}}
	}
	var res []normalized
	for i := range d.items {
		it := &d.items[i]
		out, _, err := n.normalize(nil, it, d.members[it.first:it.last])
		if err != nil {
			res = append(res, normalized{out: "normalize: " + err.Code + ": " + err.Message})
			continue
		}
		res = append(res, normalized{out: string(out), parts: n.parts})
	}
	return res
}

// TestSplitPartsKept: the scanner keeps the members of a message's own
// parts and of a context merged with the server's address, so the fuzz
// target above compares members and not only nils.
func TestSplitPartsKept(t *testing.T) {
	res := normalizeWith([]byte(splitPartsSeeds[0]), true, true)
	if len(res) != 1 {
		t.Fatalf("normalizeWith(%s) = %+v, want one message", splitPartsSeeds[0], res)
	}
	p := res[0].parts
	if got := len(p.PropertiesMembers); got != 2 {
		t.Errorf("kept %d properties members, want 2", got)
	}
	// The server's address and the batch's library, less the ip the
	// message overrides, then the message's ip and traits.
	if got := len(p.ContextMembers); got != 3 {
		t.Errorf("kept %d context members (%q), want 3", got, p.ContextMembers)
	}
	if got := len(p.ContextTraitsMembers); got != 1 || p.ContextTraits != 2 {
		t.Errorf("kept %d context.traits members at %d, want 1 at 2", got, p.ContextTraits)
	}
	if p.TraitsMembers != nil {
		t.Errorf("kept traits members %q for a message without traits", p.TraitsMembers)
	}
}
