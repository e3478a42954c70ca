package audience

import (
	"fmt"
	"strings"
)

// Validate checks a tree built in Go the way Decode and Parse check what
// they read, and prepares it for evaluation. With a lookup (from an
// audience's id or key to its condition) it also follows references to
// other audiences: an unknown audience (ErrUnknownAudience) and a cycle
// (ErrCycle, with its path: vip → loyal → vip) are errors at the path of the
// reference. To check an audience being saved, let lookup return its new
// condition for its own key, so that cycles through it are found.
//
// Validate prepares c for evaluation, so call it before c is shared.
func Validate(c *Condition, lookup func(key string) (*Condition, bool)) error {
	var k checker
	if err := k.walk(c, "", 1, false); err != nil {
		return err
	}
	if lookup == nil {
		return nil
	}
	r := &references{lookup: lookup, done: map[string]bool{}}
	return r.walk(c, "", nil)
}

// maxLookups bounds the references one validation follows.
const maxLookups = 10000

type references struct {
	lookup  func(string) (*Condition, bool)
	done    map[string]bool // audiences whose references are known good
	lookups int
}

// walk follows the audience references under c. path is the JSON path of
// the reference in the tree being validated, which is where errors point.
func (r *references) walk(c *Condition, path string, stack []string) error {
	switch c.Kind {
	case KindAnd, KindOr, KindNot:
		for i, ch := range c.Children {
			p := path
			if stack == nil { // still in the tree being validated
				p = join(path, c.Kind.String())
				if c.Kind != KindNot {
					p = index(p, i)
				}
			}
			if err := r.walk(ch, p, stack); err != nil {
				return err
			}
		}
	case KindAudience:
		return r.visit(c.Name, fieldPath(path, inTree(stack, "audience")), stack)
	}
	return nil
}

func inTree(stack []string, field string) string {
	if stack == nil {
		return field
	}
	return ""
}

func (r *references) visit(key, path string, stack []string) error {
	for i, s := range stack {
		if s == key {
			chain := append(append([]string{}, stack[i:]...), key)
			return &Error{Path: path, err: ErrCycle, Msg: fmt.Sprintf(
				"audience %q refers back to itself: %s; remove one of the references", key, strings.Join(chain, " → "))}
		}
	}
	if r.done[key] {
		return nil
	}
	r.lookups++
	if r.lookups > maxLookups {
		return &Error{Path: path, Msg: fmt.Sprintf("the audiences this one refers to refer to more than %d others", maxLookups)}
	}
	sub, ok := r.lookup(key)
	if !ok || sub == nil {
		msg := fmt.Sprintf("there is no audience %q; create it first or correct the key", key)
		if len(stack) > 0 {
			msg = fmt.Sprintf("audience %q (through %s) refers to %q, which does not exist", stack[len(stack)-1], strings.Join(stack, " → "), key)
		}
		return &Error{Path: path, err: ErrUnknownAudience, Msg: msg}
	}
	if err := r.walk(sub, path, append(stack, key)); err != nil {
		return err
	}
	r.done[key] = true
	return nil
}
