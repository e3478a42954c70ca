package clean

import (
	"slices"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/collect"
)

// CleanParts is Clean for a message whose traits, properties and context
// collect has located (collect.PartsCleaner): the message is not read
// again to find them, which was a third of what cleaning cost a browser
// event. It gives what Clean gives.
func (c *Cleaner) CleanParts(src *mosaic.Source, typ string, msg []byte, parts collect.Parts) ([]byte, *mosaic.Error) {
	now := parts.ReceivedAt
	if now.IsZero() {
		now = c.opts.Now()
	}
	st := c.stateAt(src.ID, now)
	out := st.vc.messageParts(msg, parts)
	if st.plan == nil {
		return out, nil
	}
	return c.checkPlan(src, st.plan, typ, out)
}

// splice is a part of a message replaced by new bytes (nil: by the
// context's members).
type splice struct {
	start, end int
	val        []byte
}

// messageParts is message for a message located by parts: its top level
// compact JSON ending in '}', traits, properties and context at most once
// each. Where message writes the whole message again, this copies the
// bytes around the parts it replaces, which comes to the same.
func (vc *valueCleaner) messageParts(msg []byte, p collect.Parts) []byte {
	objs := [2]struct {
		span [2]int
		name string
		ms   []member
	}{{p.Traits, "traits", p.TraitsMembers}, {p.Properties, "properties", p.PropertiesMembers}}
	if objs[1].span[0] < objs[0].span[0] {
		objs[0], objs[1] = objs[1], objs[0] // cleaned in the message's order, as message does
	}
	var cs changeSet
	defer cs.release()
	var reps [3]splice
	n := 0
	for _, o := range objs {
		if o.span[1] == 0 {
			continue
		}
		raw := msg[o.span[0]:o.span[1]]
		var nv []byte
		if o.ms != nil {
			nv = vc.objectMembers(o.name, raw, o.ms, 0, &cs)
		} else {
			nv = vc.object(o.name, raw, 0, &cs)
		}
		reps[n] = splice{o.span[0], o.span[1], nv}
		n++
	}
	hasCtx := p.Context[1] > 0
	var cbuf [memberHint]member
	var cms []member
	ctxChanged := false
	if hasCtx {
		// Into cbuf either way: the address step and the record of changes
		// may add members.
		cms = append(cbuf[:0], p.ContextMembers...)
		ok := true
		if p.ContextMembers == nil {
			cms, ok = members(msg[p.Context[0]:p.Context[1]], cbuf[:0])
		}
		if ok {
			ctxChanged = vc.contextTraits(cms, p.ContextTraits, p.ContextTraitsMembers, &cs)
			var enriched bool
			cms, enriched = vc.contextIP(cms)
			ctxChanged = ctxChanged || enriched
		}
	}
	if len(cs.list) == 0 && !ctxChanged {
		return msg
	}
	var rec, extra []byte
	if len(cs.list) > 0 {
		rec = appendChanges(cs.room(96*len(cs.list)), cs.list)
		cleaning := member{Key: []byte("cleaning"), Val: rec}
		if hasCtx {
			cms = append(cms, cleaning)
		} else {
			extra = writeObject(append([]byte(nil), `,"context":`...), []member{cleaning})
		}
	}
	if hasCtx {
		reps[n] = splice{start: p.Context[0], end: p.Context[1]} // written from cms, straight into out
		n++
	}
	sortSplices(reps[:n])
	out := slices.Grow(p.Buf[:0], len(msg)+len(rec)+176)
	prev := 0
	for _, r := range reps[:n] {
		out = append(out, msg[prev:r.start]...)
		if r.val == nil {
			out = writeObject(out, cms)
		} else {
			out = append(out, r.val...)
		}
		prev = r.end
	}
	if extra != nil {
		out = append(out, msg[prev:len(msg)-1]...)
		out = append(out, extra...)
		return append(out, '}')
	}
	return append(out, msg[prev:]...)
}

// sortSplices sorts up to three splices by where they start.
func sortSplices(s []splice) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].start < s[j-1].start; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
