package audience

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// MarshalJSON writes the canonical JSON form: the kind's key first, then
// the other fields in a fixed order, defaults written out. Decoding it gives
// the same tree.
func (c *Condition) MarshalJSON() ([]byte, error) {
	return c.appendJSON(nil)
}

// MarshalIndent is MarshalJSON indented with two spaces, as the golden
// files and the documentation show trees.
func MarshalIndent(c *Condition) ([]byte, error) {
	b, err := c.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func (c *Condition) appendJSON(b []byte) ([]byte, error) {
	if c == nil {
		return nil, fmt.Errorf("audience: a condition is nil")
	}
	b = append(appendQuoted(append(b, '{'), c.Kind.String()), ':')
	var err error
	switch c.Kind {
	case KindAnd, KindOr:
		b, err = appendList(b, c.Children)
	case KindNot:
		if len(c.Children) != 1 {
			return nil, fmt.Errorf("audience: not has %d conditions", len(c.Children))
		}
		b, err = c.Children[0].appendJSON(b)
	case KindTrait, KindComputed, KindProperty:
		b, err = appendComparison(appendQuoted(b, c.Name), c)
	case KindEvent:
		b, err = c.appendEvent(b)
	case KindConsent, KindAudience:
		b = appendQuoted(b, c.Name)
	case KindBirthday:
		b = appendQuoted(b, FormatWindow(c.Within))
	case KindNear:
		b = appendNear(b, c.Near)
	case KindExpr:
		b = appendQuoted(b, c.Expr)
	default:
		return nil, fmt.Errorf("audience: unknown condition kind %d", c.Kind)
	}
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

func appendList(b []byte, cs []*Condition) ([]byte, error) {
	b = append(b, '[')
	for i, ch := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = ch.appendJSON(b); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// appendComparison writes ,"op":..,"value":.. after a comparison's name.
func appendComparison(b []byte, c *Condition) ([]byte, error) {
	b = appendQuoted(append(b, `,"op":`...), c.Op.String())
	switch c.Op {
	case OpExists, OpNotExists:
		return b, nil
	case OpAnniversaryWithin:
		return appendQuoted(append(b, `,"value":`...), FormatWindow(c.Within)), nil
	}
	return c.Value.appendJSON(append(b, `,"value":`...))
}

func (c *Condition) appendEvent(b []byte) ([]byte, error) {
	b = appendQuoted(b, c.Name)
	if c.Where != nil {
		var err error
		if b, err = c.Where.appendJSON(append(b, `,"where":`...)); err != nil {
			return nil, err
		}
	}
	if c.Within > 0 {
		b = appendQuoted(append(b, `,"within":`...), FormatWindow(c.Within))
	}
	b = appendQuoted(append(b, `,"agg":`...), c.Agg.String())
	if c.Agg != AggCount {
		b = appendQuoted(append(b, `,"property":`...), c.Property)
	}
	return appendComparison(b, c)
}

func appendNear(b []byte, g Geo) []byte {
	b = strconv.AppendFloat(append(b, `{"lat":`...), g.Lat, 'f', -1, 64)
	b = strconv.AppendFloat(append(b, `,"lon":`...), g.Lon, 'f', -1, 64)
	b = strconv.AppendFloat(append(b, `,"km":`...), g.Km, 'f', -1, 64)
	return append(b, '}')
}
