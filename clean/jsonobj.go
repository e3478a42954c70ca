package clean

import (
	"slices"

	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
)

// The cleaner rewrites a few values of a message and must leave the rest
// exactly as collect normalised it, so it works on the byte spans of
// internal/jsonscan. Inputs are already validated JSON.

// member is one key/value pair of an object: Key is the raw key between
// its quotes, Val the raw value.
type member = jsonscan.Member

// memberHint is the capacity members' callers start with: enough for the
// objects of a typical message (a browser event's context has about 12
// members), so that splitting one rarely grows the slice, which profiling
// the ingest path showed to cost more than the scanning itself.
const memberHint = 24

// members splits the object b into its members, appending to dst. ok is
// false if b is not an object.
func members(b []byte, dst []member) ([]member, bool) { return jsonscan.Members(b, dst) }

// writeObject appends an object of ms to dst.
func writeObject(dst []byte, ms []member) []byte { return jsonscan.AppendObject(dst, ms) }

// messageObjects are the members of a message whose objects the cleaner
// reads.
var messageObjects = [...]string{"traits", "properties", "context"}

// nestedMembers are the members of the object value of top-level member
// index (-1: none).
type nestedMembers struct {
	index int
	ms    []member
}

// splitMessage is members for a whole message that also splits the object
// values of its traits, properties and context as it goes, into bufs (one
// each; a member given twice is left to the caller to split). Splitting
// the message and then each of those objects again read most of its bytes
// twice, which was most of the cleaner's cost.
func splitMessage(b []byte, dst []member, bufs [len(messageObjects)][]member) ([]member, [len(messageObjects)]nestedMembers, bool) {
	var subs [len(messageObjects)]nestedMembers
	for j := range subs {
		subs[j].index = -1
	}
	i := jsonscan.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return dst, subs, false
	}
	for i = jsonscan.SkipSpace(b, i+1); i < len(b) && b[i] != '}'; {
		if b[i] != '"' {
			return dst, subs, true // as members does: the members read so far
		}
		k := jsonscan.SkipValue(b, i)
		var m member
		m.Key = b[i+1 : max(i+1, k-1)]
		i = jsonscan.SkipSpace(b, k)
		if i >= len(b) || b[i] != ':' {
			return dst, subs, true
		}
		v := jsonscan.SkipSpace(b, i+1)
		i = -1
		if j := slices.Index(messageObjects[:], string(m.Key)); j >= 0 && subs[j].index < 0 && v < len(b) && b[v] == '{' {
			if ms, end, ok := jsonscan.MembersAt(b, v, bufs[j]); ok {
				subs[j] = nestedMembers{index: len(dst), ms: ms}
				i = min(end+1, len(b))
			}
		}
		if i < 0 {
			i = jsonscan.SkipValue(b, v)
		}
		m.Val = b[v:i]
		dst = append(dst, m)
		if i = jsonscan.SkipSpace(b, i); i < len(b) && b[i] == ',' {
			i = jsonscan.SkipSpace(b, i+1)
		}
	}
	return dst, subs, true
}
