package audience

import (
	"strings"
	"sync"
	"time"
)

// Subject is what a condition is evaluated over: one profile, as the engine
// (or a preview over stored profiles) sees it. Implementations must give the
// same answers for the same data, whatever the order of calls.
type Subject interface {
	// Trait returns the trait's current value, false if the profile has none.
	Trait(name string) (Value, bool)
	// Computed returns the computed trait's current value, false if none.
	Computed(name string) (Value, bool)
	// Consent reports whether the profile granted the purpose.
	Consent(purpose string) bool
	// InAudience reports whether the profile is in the audience with that
	// id or key now.
	InAudience(key string) bool
	// Events calls fn for the subject's events with that name at or after
	// since, newest first, with their properties as raw JSON, until fn
	// returns false. A zero since means all of them.
	Events(name string, since time.Time, fn func(at time.Time, properties []byte) bool)
}

// Result is the value of a condition for one subject at one moment.
type Result struct {
	// Value is whether the subject matches.
	Value bool
	// NextChange is the moment the value can next flip with no new data:
	// until then, evaluating again gives the same value. It is zero when
	// time alone cannot change the value. See docs/audiences.md for how
	// exact it is.
	NextChange time.Time
	// Explain is the tree annotated with values and the data behind them;
	// only Explain fills it.
	Explain *Explanation
}

// Evaluate returns the value of c for s at now, and when it can next change.
// c should come from Decode, Parse or Validate; an unchecked tree works but
// is slower, since its literals and expressions are prepared on every call.
func Evaluate(c *Condition, s Subject, now time.Time) Result {
	e := evaluator{s: s, now: now}
	o := e.eval(c)
	e.release()
	return Result{Value: o.value, NextChange: o.next}
}

// Explain is Evaluate with the explanation: every node annotated with its
// value, the data it compared and when it can next change. It evaluates
// every node (Evaluate stops early when it can), so it is slower.
func Explain(c *Condition, s Subject, now time.Time) Result {
	e := evaluator{s: s, now: now, explain: true}
	o := e.eval(c)
	e.release()
	return Result{Value: o.value, NextChange: o.next, Explain: o.x}
}

// evaluator holds one evaluation's inputs. It lives on the stack; event
// nodes borrow pooled scratch space, so that evaluation allocates nothing
// of its own.
type evaluator struct {
	s       Subject
	now     time.Time
	explain bool
	sc      *scratch // borrowed by the first event node, returned by release
}

// scratch is what an event node needs to collect its events.
type scratch struct {
	items   []eventItem // the matching events, newest first
	holds   []bool      // whether the aggregate of the newest j items passes
	cur     *Condition  // the event node being collected
	since   time.Time   // its window's start
	visitFn func(time.Time, []byte) bool
}

var scratches = sync.Pool{New: func() any {
	sc := new(scratch)
	sc.visitFn = sc.visit // made once: a method value allocates
	return sc
}}

// maxPooledItems bounds the scratch space kept in the pool: one huge
// profile should not pin its events' worth of memory.
const maxPooledItems = 4096

func (e *evaluator) scratch() *scratch {
	if e.sc == nil {
		e.sc = scratches.Get().(*scratch)
	}
	return e.sc
}

func (e *evaluator) release() {
	sc := e.sc
	if sc == nil {
		return
	}
	e.sc, sc.cur = nil, nil
	if cap(sc.items) > maxPooledItems {
		sc.items, sc.holds = nil, nil
	}
	scratches.Put(sc)
}

// outcome is one node's result.
type outcome struct {
	value bool
	next  time.Time // zero: never by time alone
	x     *Explanation
}

func (e *evaluator) eval(c *Condition) outcome {
	switch c.Kind {
	case KindAnd, KindOr:
		return e.group(c)
	case KindNot:
		child := e.eval(c.Children[0])
		o := outcome{value: !child.value, next: child.next}
		if x := e.annotate(c, &o); x != nil {
			x.Children = []*Explanation{child.x}
		}
		return o
	case KindTrait, KindComputed:
		return e.comparison(c)
	case KindEvent:
		return e.event(c)
	case KindConsent:
		o := outcome{value: e.s.Consent(c.Name)}
		e.annotate(c, &o)
		return o
	case KindAudience:
		o := outcome{value: e.s.InAudience(c.Name)}
		e.annotate(c, &o)
		return o
	case KindBirthday:
		v, _ := traitValue(e.s, "birthday")
		return e.anniversary(c, v)
	case KindNear:
		return e.near(c)
	case KindExpr:
		return e.expr(c)
	}
	return outcome{}
}

// group evaluates and and or. The child value that decides the group (false
// for and, true for or) is "dominant". With no dominant child, the group
// holds until the first child flips: the earliest next change. With
// dominant children, the group stays decided at least until the last of them
// flips (each stays put until its own next change), and for good if one of
// them can never flip; that is also when Evaluate stops looking. Neither
// rule depends on the order of the children, which lets Evaluate take them
// cheapest first.
func (e *evaluator) group(c *Condition) outcome {
	dominant := c.Kind == KindOr
	var first, last time.Time // earliest next change of all; latest of the dominant
	found := false
	var xs []*Explanation
	for i := range c.Children {
		ch := c.Children[i]
		if !e.explain && len(c.order) == len(c.Children) {
			ch = c.Children[c.order[i]]
		}
		o := e.eval(ch)
		if e.explain {
			xs = append(xs, o.x)
		}
		first = earlier(first, o.next)
		if o.value != dominant {
			continue
		}
		if !found {
			last, found = o.next, true
		} else {
			last = later(last, o.next)
		}
		if last.IsZero() && !e.explain {
			break
		}
	}
	o := outcome{value: !dominant, next: first}
	if found {
		o = outcome{value: dominant, next: last}
	}
	if x := e.annotate(c, &o); x != nil {
		x.Children = xs
	}
	return o
}

// earlier returns the earlier of two next changes, where zero means never.
func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// later returns the later of two next changes, where zero means never.
func later(a, b time.Time) time.Time {
	if a.IsZero() || b.IsZero() {
		return time.Time{}
	}
	if b.After(a) {
		return b
	}
	return a
}

// annotate attaches the explanation of c to o when explaining, and returns
// it for the caller to add the data behind the value; it returns nil (and
// costs nothing) otherwise.
func (e *evaluator) annotate(c *Condition, o *outcome) *Explanation {
	if !e.explain {
		return nil
	}
	o.x = newExplanation(c, o.value, o.next)
	return o.x
}

func (e *evaluator) comparison(c *Condition) outcome {
	var v Value
	var ok bool
	if c.Kind == KindTrait {
		v, ok = traitValue(e.s, c.Name)
	} else {
		v, ok = e.s.Computed(c.Name)
	}
	if !ok {
		v = Value{}
	}
	if c.Op == OpAnniversaryWithin {
		return e.anniversary(c, v)
	}
	o := outcome{value: match(c.Op, &v, c.literalOf())}
	if x := e.annotate(c, &o); x != nil {
		x.setActual(v)
	}
	return o
}

// traitValue returns the named trait. A dotted name the subject does not
// know as a whole ("address.city") is looked up as a path into an object
// trait ("address").
func traitValue(s Subject, name string) (Value, bool) {
	if v, ok := s.Trait(name); ok {
		return v, true
	}
	dot := strings.IndexByte(name, '.')
	if dot <= 0 {
		return Value{}, false
	}
	v, ok := s.Trait(name[:dot])
	for rest := name[dot+1:]; ok && rest != ""; {
		field := rest
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			field, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		v, ok = v.Field(field)
	}
	return v, ok
}

func (e *evaluator) expr(c *Condition) outcome {
	p, err := c.programOf()
	var value bool
	if err == nil {
		value, err = p.eval(e.s)
	}
	o := outcome{value: value}
	if x := e.annotate(c, &o); x != nil && err != nil {
		x.Error = err.Error()
	}
	return o
}
