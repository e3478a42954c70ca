package audience

// comparison fills a trait, computed trait or property comparison.
func (d *decoder) comparison(c *Condition, j *jvalue, path string) error {
	var err error
	if c.Name, err = stringField(j, c.Kind.String(), path, true); err != nil {
		return err
	}
	if c.Op, err = opField(j, path); err != nil {
		return err
	}
	v := j.field("value")
	if c.Op == OpAnniversaryWithin {
		return d.window(c, j, "value", path)
	}
	if v != nil {
		c.Value = v.value()
	} else if c.Op != OpExists && c.Op != OpNotExists {
		return pathError(join(path, "value"), "is missing; %s compares with a value", c.Op)
	}
	return nil
}

func opField(j *jvalue, path string) (Op, error) {
	s, err := stringField(j, "op", path, true)
	if err != nil {
		return 0, err
	}
	op, ok := ParseOp(s)
	if !ok {
		return 0, pathError(join(path, "op"), "%q is not an operator; use one of = != < <= > >= in contains starts_with exists not_exists anniversary_within", s)
	}
	return op, nil
}

// window reads a window like "30d" at key into c.Within.
func (d *decoder) window(c *Condition, j *jvalue, key, path string) error {
	s, err := stringField(j, key, path, true)
	if err != nil {
		return err
	}
	c.Within, err = ParseWindow(s)
	if err != nil {
		return pathError(join(path, key), "%v", err)
	}
	return nil
}

// event fills an event aggregate. agg defaults to count, and op and value
// together to ">= 1" ("did it at least once"): the tree a builder makes
// before anyone sets a number. The canonical form written back has them.
func (d *decoder) event(c *Condition, j *jvalue, path string, depth int) error {
	var err error
	if c.Name, err = stringField(j, "event", path, true); err != nil {
		return err
	}
	if w := j.field("where"); w != nil {
		if c.Where, err = d.node(w, join(path, "where"), depth+1, true); err != nil {
			return err
		}
	}
	if j.field("within") != nil {
		if err := d.window(c, j, "within", path); err != nil {
			return err
		}
	}
	if c.Agg, err = aggField(j, path); err != nil {
		return err
	}
	if c.Property, err = stringField(j, "property", path, false); err != nil {
		return err
	}
	return eventComparison(c, j, path)
}

func aggField(j *jvalue, path string) (Agg, error) {
	s, err := stringField(j, "agg", path, false)
	if err != nil || s == "" && j.field("agg") == nil {
		return AggCount, err
	}
	agg, ok := ParseAgg(s)
	if !ok {
		return 0, pathError(join(path, "agg"), "%q is not an aggregate; use count, sum, avg, min or max", s)
	}
	return agg, nil
}

func eventComparison(c *Condition, j *jvalue, path string) error {
	op, v := j.field("op"), j.field("value")
	switch {
	case op == nil && v == nil && c.Agg == AggCount:
		c.Op, c.Value = OpGe, Number(1)
		return nil
	case op == nil:
		return pathError(join(path, "op"), "is missing; compare the %s with = != < <= > or >=", c.Agg)
	case v == nil:
		return pathError(join(path, "value"), "is missing; compare the %s with a number", c.Agg)
	}
	var err error
	c.Op, err = opField(j, path)
	c.Value = v.value()
	return err
}

// near reads {"lat": .., "lon": .., "km": ..}.
func (d *decoder) near(c *Condition, j *jvalue, path string) error {
	if j.kind != ValueObject {
		return pathError(path, "must be an object like {\"lat\": 52.37, \"lon\": 4.9, \"km\": 25}, not %s", describe(j.value()))
	}
	for _, key := range j.keys {
		if key != "lat" && key != "lon" && key != "km" {
			return pathError(path, "unknown field %q; near takes \"lat\", \"lon\" and \"km\"", key)
		}
	}
	for _, f := range []struct {
		key string
		dst *float64
	}{{"lat", &c.Near.Lat}, {"lon", &c.Near.Lon}, {"km", &c.Near.Km}} {
		v := j.field(f.key)
		if v == nil {
			return pathError(join(path, f.key), "is missing")
		}
		if v.kind != ValueNumber {
			return pathError(join(path, f.key), "must be a number, not %s", describe(v.value()))
		}
		*f.dst = v.val.n
	}
	return nil
}
