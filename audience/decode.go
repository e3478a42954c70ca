package audience

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Decode reads the JSON form of a condition and checks it: every kind of
// docs/condition.schema.json, nothing unknown, the limits kept. Errors are
// *Error values naming the JSON path, like
//
//	and[1].within: "30x" is not a duration like 30d or 12h
//
// References to other audiences are checked by Validate, which knows them.
func Decode(data []byte) (*Condition, error) {
	switch {
	case len(data) > MaxSourceBytes:
		return nil, &Error{Msg: fmt.Sprintf("the condition is larger than %d bytes", MaxSourceBytes)}
	case !utf8.Valid(data):
		return nil, &Error{Msg: "the condition is not valid UTF-8"}
	}
	j, err := parseJSON(data)
	if err != nil {
		return nil, &Error{Msg: "the condition is not valid JSON: " + err.Error()}
	}
	var d decoder
	return d.node(j, "", 1, false)
}

// UnmarshalJSON decodes the JSON form with Decode.
func (c *Condition) UnmarshalJSON(data []byte) error {
	d, err := Decode(data)
	if err != nil {
		return err
	}
	*c = *d
	return nil
}

// kindKeys are the JSON keys that name a node's kind, in the order errors
// list them. "property" names a kind only without "event", whose aggregated
// property it otherwise is.
var kindKeys = []Kind{KindAnd, KindOr, KindNot, KindTrait, KindEvent, KindComputed,
	KindConsent, KindAudience, KindBirthday, KindNear, KindExpr, KindProperty}

// fieldsOf lists the keys each kind takes, for unknown-key errors.
var fieldsOf = map[Kind][]string{
	KindAnd: {"and"}, KindOr: {"or"}, KindNot: {"not"},
	KindTrait:    {"trait", "op", "value"},
	KindProperty: {"property", "op", "value"},
	KindComputed: {"computed", "op", "value"},
	KindEvent:    {"event", "where", "within", "agg", "property", "op", "value"},
	KindConsent:  {"consent"}, KindAudience: {"audience"},
	KindBirthday: {"birthday_within"}, KindNear: {"near"}, KindExpr: {"expr"},
}

type decoder struct {
	checker
}

func (d *decoder) node(j *jvalue, path string, depth int, inWhere bool) (*Condition, error) {
	if j.kind != ValueObject {
		return nil, pathError(path, "a condition is an object like {\"trait\": \"country\", \"op\": \"=\", \"value\": \"NL\"}, not %s", describe(j.value()))
	}
	if msg := d.enter(depth); msg != "" {
		return nil, pathError(path, "%s", msg)
	}
	kind, err := kindOf(j, path)
	if err != nil {
		return nil, err
	}
	if err := knownFields(j, kind, path); err != nil {
		return nil, err
	}
	c := &Condition{Kind: kind}
	if err := d.fields(c, j, path, depth, inWhere); err != nil {
		return nil, err
	}
	if fe := checkNode(c, inWhere); fe != nil {
		return nil, pathError(fieldPath(path, fe.field), "%s", fe.msg)
	}
	return c, nil
}

func kindOf(j *jvalue, path string) (Kind, error) {
	var found []Kind
	for _, k := range kindKeys {
		if j.field(k.String()) == nil || (k == KindProperty && j.field("event") != nil) {
			continue
		}
		found = append(found, k)
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		what := "keys " + strings.Join(quoteAll(j.keys), ", ")
		if len(j.keys) == 0 {
			what = "no keys"
		}
		names := make([]string, len(kindKeys))
		for i, k := range kindKeys {
			names[i] = k.String()
		}
		return 0, pathError(path, "unknown condition with %s; a condition has one of the keys %s",
			what, strings.Join(names, ", "))
	}
	return 0, pathError(path, "a condition has exactly one kind, but this one has both %q and %q; put them in an and or an or", found[0], found[1])
}

func knownFields(j *jvalue, k Kind, path string) error {
	allowed := fieldsOf[k]
	for _, key := range j.keys {
		ok := false
		for _, a := range allowed {
			ok = ok || a == key
		}
		if !ok {
			return pathError(path, "unknown field %q in a %s condition; it takes %s", key, k, strings.Join(quoteAll(allowed), ", "))
		}
	}
	return nil
}

func quoteAll(ss []string) []string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return q
}

// fields fills c from the keys of its kind.
func (d *decoder) fields(c *Condition, j *jvalue, path string, depth int, inWhere bool) error {
	key := c.Kind.String()
	switch c.Kind {
	case KindAnd, KindOr:
		return d.children(c, j.field(key), join(path, key), depth, inWhere)
	case KindNot:
		child, err := d.node(j.field(key), join(path, key), depth+1, inWhere)
		c.Children = []*Condition{child}
		return err
	case KindTrait, KindComputed, KindProperty:
		return d.comparison(c, j, path)
	case KindEvent:
		return d.event(c, j, path, depth)
	case KindConsent, KindAudience, KindExpr:
		s, err := stringField(j, key, path, true)
		c.Name = s
		if c.Kind == KindExpr {
			c.Name, c.Expr = "", s
		}
		return err
	case KindBirthday:
		return d.window(c, j, key, path)
	case KindNear:
		return d.near(c, j.field(key), join(path, key))
	}
	return nil
}

func (d *decoder) children(c *Condition, list *jvalue, path string, depth int, inWhere bool) error {
	if list.kind != ValueList {
		return pathError(path, "must be a list of conditions, not %s", describe(list.value()))
	}
	for i, e := range list.elems {
		child, err := d.node(e, index(path, i), depth+1, inWhere)
		if err != nil {
			return err
		}
		c.Children = append(c.Children, child)
	}
	return nil
}

// stringField returns the string at key; required says whether it may be
// absent.
func stringField(j *jvalue, key, path string, required bool) (string, error) {
	f := j.field(key)
	switch {
	case f == nil && !required:
		return "", nil
	case f == nil:
		return "", pathError(join(path, key), "is missing")
	case f.kind != ValueString:
		return "", pathError(join(path, key), "must be a string, not %s", describe(f.value()))
	}
	return f.val.s, nil
}
