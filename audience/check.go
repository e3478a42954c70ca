package audience

import (
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// MaxNameBytes bounds a trait, event, property, purpose or audience name.
const MaxNameBytes = 256

// maxBirthdayWindow is the widest anniversary window: wider ones hold on
// every day of every year.
const maxBirthdayWindow = 366 * 24 * time.Hour

// fieldError is a problem with one field of a node; the walker adds the
// node's path.
type fieldError struct {
	field string // JSON field name, or "" for the node itself
	msg   string
}

func fieldErr(field, format string, args ...any) *fieldError {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// checker walks a tree, checking each node and counting them against the
// limits. The text parser and the JSON decoder check nodes as they build
// them (so that errors carry a position); Validate uses it for trees built
// in Go.
type checker struct {
	nodes int
}

// enter counts a node at depth and refuses it past the limits.
func (k *checker) enter(depth int) string {
	k.nodes++
	switch {
	case k.nodes > MaxNodes:
		return fmt.Sprintf("the condition has more than %d nodes; split it into audiences that refer to each other", MaxNodes)
	case depth > MaxDepth:
		return fmt.Sprintf("the condition nests deeper than %d levels", MaxDepth)
	}
	return ""
}

func (k *checker) walk(c *Condition, path string, depth int, inWhere bool) error {
	if c == nil {
		return pathError(path, "a condition is missing here")
	}
	if msg := k.enter(depth); msg != "" {
		return pathError(path, "%s", msg)
	}
	if fe := checkNode(c, inWhere); fe != nil {
		return pathError(fieldPath(path, fe.field), "%s", fe.msg)
	}
	switch c.Kind {
	case KindAnd, KindOr, KindNot:
		for i, ch := range c.Children {
			p := join(path, c.Kind.String())
			if c.Kind != KindNot {
				p = index(p, i)
			}
			if err := k.walk(ch, p, depth+1, inWhere); err != nil {
				return err
			}
		}
	case KindEvent:
		if c.Where != nil {
			if err := k.walk(c.Where, join(path, "where"), depth+1, true); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldPath(path, field string) string {
	if field == "" {
		return path
	}
	return join(path, field)
}

// checkNode checks one node, not its children, and prepares it for
// evaluation: the literal is read once and a CEL expression compiled.
func checkNode(c *Condition, inWhere bool) *fieldError {
	if fe := checkPlace(c.Kind, inWhere); fe != nil {
		return fe
	}
	if f := strayField(c); f != "" {
		return fieldErr(f, "a %s condition has no %s; remove it", c.Kind, f)
	}
	fe := checkKind(c)
	if fe == nil {
		c.lit = prepareLiteral(c.Value)
		c.order = cheapestFirst(c)
		c.prepared = true
	}
	return fe
}

// cheapestFirst orders the children of an and or an or by their estimated
// cost. Evaluate stops at the first child that decides the group for good,
// and most profiles are decided by a cheap trait long before an event
// aggregate has to read events. The order changes neither the value nor
// the next change (see group), and explanations keep the written order.
func cheapestFirst(c *Condition) []int {
	if c.Kind != KindAnd && c.Kind != KindOr {
		return nil
	}
	order := make([]int, len(c.Children))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cost(c.Children[a]) - cost(c.Children[b]) })
	return order
}

// cost estimates the work of evaluating c, in units of a trait lookup.
func cost(c *Condition) int {
	switch c.Kind {
	case KindAnd, KindOr, KindNot:
		sum := 0
		for _, ch := range c.Children {
			sum += cost(ch)
		}
		return sum
	case KindEvent:
		return 20 // reads every event in its window
	case KindExpr:
		return 20
	case KindBirthday, KindNear:
		return 3
	}
	return 1
}

func checkPlace(k Kind, inWhere bool) *fieldError {
	switch {
	case k < KindAnd || k > KindExpr:
		return fieldErr("", "unknown condition kind %d", k)
	case inWhere && k != KindAnd && k != KindOr && k != KindNot && k != KindProperty:
		return fieldErr("", "a where condition is made of property comparisons, and, or and not; %s cannot appear in it", k)
	case !inWhere && k == KindProperty:
		return fieldErr("", "property comparisons belong in an event's where; compare a trait with trait instead")
	}
	return nil
}

func checkKind(c *Condition) *fieldError {
	switch c.Kind {
	case KindNot:
		if len(c.Children) != 1 {
			return fieldErr("not", "not takes exactly one condition, not %d", len(c.Children))
		}
	case KindTrait, KindComputed, KindProperty:
		return checkComparison(c)
	case KindEvent:
		return checkEvent(c)
	case KindConsent, KindAudience:
		return checkName(c.Kind.String(), c.Name)
	case KindBirthday:
		return checkDays(c.Kind.String(), c.Within)
	case KindNear:
		return checkNear(c.Near)
	case KindExpr:
		return checkExpr(c)
	}
	return nil
}

// strayField names the first field set that c's kind does not use: such a
// field would be lost on the way to JSON and back.
func strayField(c *Condition) string {
	uses := func(kinds ...Kind) bool {
		for _, k := range kinds {
			if c.Kind == k {
				return true
			}
		}
		return false
	}
	switch {
	case len(c.Children) > 0 && !uses(KindAnd, KindOr, KindNot):
		return "children"
	case c.Name != "" && uses(KindAnd, KindOr, KindNot, KindBirthday, KindNear, KindExpr):
		return "name"
	case c.Op != 0 && !uses(KindTrait, KindComputed, KindProperty, KindEvent):
		return "op"
	case c.Value.kind != ValueNull && !uses(KindTrait, KindComputed, KindProperty, KindEvent):
		return "value"
	case (c.Agg != 0 || c.Property != "" || c.Where != nil) && !uses(KindEvent):
		return "agg, property or where"
	case c.Within != 0 && !uses(KindEvent, KindBirthday, KindTrait, KindComputed):
		return "within"
	case c.Near != (Geo{}) && !uses(KindNear):
		return "near"
	case c.Expr != "" && !uses(KindExpr):
		return "expr"
	}
	return ""
}

func checkName(field, name string) *fieldError {
	switch {
	case name == "":
		return fieldErr(field, "the name is empty")
	case len(name) > MaxNameBytes:
		return fieldErr(field, "the name is longer than %d bytes", MaxNameBytes)
	case !utf8.ValidString(name):
		return fieldErr(field, "the name is not valid UTF-8")
	}
	return nil
}

func checkDays(field string, d time.Duration) *fieldError {
	if err := checkWindow(d, true); err != nil {
		return fieldErr(field, "%v", err)
	}
	if d > maxBirthdayWindow {
		return fieldErr(field, "%s is more than a year: such a window holds every day; use at most 366d", FormatWindow(d))
	}
	return nil
}

func checkNear(g Geo) *fieldError {
	switch {
	case !(g.Lat >= -90 && g.Lat <= 90):
		return fieldErr("near.lat", "latitude %v is not between -90 and 90", g.Lat)
	case !(g.Lon >= -180 && g.Lon <= 180):
		return fieldErr("near.lon", "longitude %v is not between -180 and 180", g.Lon)
	case !(g.Km > 0 && g.Km <= 20038):
		return fieldErr("near.km", "the distance %v km is not between 0 and 20038 (half the earth's circumference)", g.Km)
	}
	return nil
}

// describe names a value's type for error messages.
func describe(v Value) string {
	switch v.kind {
	case ValueNull:
		return "nothing"
	case ValueBool:
		return "a boolean"
	case ValueNumber:
		return "a number"
	case ValueString:
		return "a string"
	case ValueList:
		return "a list"
	}
	return "an object"
}
