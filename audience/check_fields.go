package audience

import (
	"math"
	"unicode/utf8"
)

// checkComparison checks a trait, computed trait or property comparison.
func checkComparison(c *Condition) *fieldError {
	if fe := checkName(c.Kind.String(), c.Name); fe != nil {
		return fe
	}
	switch {
	case c.Op < OpEq || c.Op > OpAnniversaryWithin:
		return fieldErr("op", "the operator is missing or unknown; use one of = != < <= > >= in contains starts_with exists not_exists")
	case c.Op == OpAnniversaryWithin && c.Kind == KindProperty:
		return fieldErr("op", "anniversary_within compares with today, which an event property cannot do; use it on a trait")
	case c.Op == OpAnniversaryWithin:
		if c.Value.kind != ValueNull {
			return fieldErr("value", "anniversary_within takes a window like 7d, not a value")
		}
		return checkDays("value", c.Within)
	case c.Within != 0:
		return fieldErr("within", "only anniversary_within takes a window")
	}
	return checkLiteral("value", c.Op, c.Value)
}

// checkLiteral checks that v is a value op can compare with.
func checkLiteral(field string, op Op, v Value) *fieldError {
	switch op {
	case OpExists, OpNotExists:
		if v.kind != ValueNull {
			return fieldErr(field, "%s takes no value; remove it", op)
		}
		return nil
	case OpEq, OpNe:
		if v.kind != ValueString && v.kind != ValueNumber && v.kind != ValueBool {
			return fieldErr(field, "%s needs a string, a number or a boolean, not %s", op, describe(v))
		}
	case OpLt, OpLe, OpGt, OpGe:
		if v.kind != ValueString && v.kind != ValueNumber {
			return fieldErr(field, "%s needs a number, a string or a date, not %s", op, describe(v))
		}
	case OpIn:
		return checkList(field, v)
	case OpContains:
		if v.kind != ValueString && v.kind != ValueNumber && v.kind != ValueBool {
			return fieldErr(field, "contains needs a string, a number or a boolean, not %s", describe(v))
		}
	case OpStartsWith:
		if v.kind != ValueString {
			return fieldErr(field, "starts_with needs a string, not %s", describe(v))
		}
	}
	return checkScalar(field, v)
}

func checkList(field string, v Value) *fieldError {
	switch {
	case v.kind != ValueList:
		return fieldErr(field, "in needs a list like [\"NL\", \"BE\"], not %s", describe(v))
	case len(v.l) == 0:
		return fieldErr(field, "in needs at least one value")
	case len(v.l) > MaxListLen:
		return fieldErr(field, "in takes at most %d values", MaxListLen)
	}
	for i, e := range v.l {
		if e.kind != ValueString && e.kind != ValueNumber && e.kind != ValueBool {
			return fieldErr(index(field, i), "must be a string, a number or a boolean, not %s", describe(e))
		}
		if fe := checkScalar(index(field, i), e); fe != nil {
			return fe
		}
	}
	return nil
}

func checkScalar(field string, v Value) *fieldError {
	switch v.kind {
	case ValueNumber:
		if math.IsNaN(v.n) || math.IsInf(v.n, 0) {
			return fieldErr(field, "must be a finite number")
		}
	case ValueString:
		if len(v.s) > MaxStringBytes {
			return fieldErr(field, "the string is longer than %d bytes", MaxStringBytes)
		}
		if !utf8.ValidString(v.s) {
			return fieldErr(field, "the string is not valid UTF-8")
		}
	}
	return nil
}

// checkEvent checks an event aggregate; its where tree is walked apart.
func checkEvent(c *Condition) *fieldError {
	if fe := checkName("event", c.Name); fe != nil {
		return fe
	}
	switch {
	case c.Agg < AggCount || c.Agg > AggMax:
		return fieldErr("agg", "the aggregate is missing or unknown; use count, sum, avg, min or max")
	case c.Agg == AggCount && c.Property != "":
		return fieldErr("property", "count counts events and reads no property; remove it or use sum, avg, min or max")
	case c.Agg != AggCount && c.Property == "":
		return fieldErr("property", "%s needs the numeric property to aggregate, like \"revenue\"", c.Agg)
	case c.Agg != AggCount:
		if fe := checkName("property", c.Property); fe != nil {
			return fe
		}
	}
	if !c.Op.ordering() {
		return fieldErr("op", "an event aggregate is compared with = != < <= > or >=")
	}
	if c.Value.kind != ValueNumber {
		return fieldErr("value", "the %s is compared with a number, not %s", c.Agg, describe(c.Value))
	}
	if fe := checkScalar("value", c.Value); fe != nil {
		return fe
	}
	if c.Within != 0 {
		if err := checkWindow(c.Within, false); err != nil {
			return fieldErr("within", "%v", err)
		}
	}
	return nil
}
