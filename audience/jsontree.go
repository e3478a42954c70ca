package audience

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jvalue is a JSON value as the decoder reads it: objects keep their keys in
// order, so that errors can point at the first problem as written, and
// duplicate keys are refused rather than silently overwritten.
type jvalue struct {
	kind  ValueKind
	val   Value // scalars
	keys  []string
	vals  []*jvalue // object values, in the order of keys
	elems []*jvalue // list elements
}

// maxJSONNesting bounds JSON nesting: each node level takes at most two
// (an object inside a list), so deeper input is over MaxDepth anyway.
const maxJSONNesting = 2*MaxDepth + 4

func parseJSON(data []byte) (*jvalue, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	j, err := readJSON(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the condition at byte %d", d.InputOffset())
	}
	return j, nil
}

func readJSON(d *json.Decoder, depth int) (*jvalue, error) {
	if depth > maxJSONNesting {
		return nil, fmt.Errorf("the JSON nests deeper than %d levels", maxJSONNesting)
	}
	tok, err := d.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("the JSON ends early")
		}
		return nil, fmt.Errorf("%v (at byte %d)", err, d.InputOffset())
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return readObject(d, depth)
		}
		return readList(d, depth)
	case json.Number:
		v, err := ValueOf(t)
		if err != nil {
			return nil, fmt.Errorf("the number %s is out of range", t)
		}
		return &jvalue{kind: ValueNumber, val: v}, nil
	}
	v, _ := ValueOf(tok) // string, bool or nil
	return &jvalue{kind: v.kind, val: v}, nil
}

func readObject(d *json.Decoder, depth int) (*jvalue, error) {
	j := &jvalue{kind: ValueObject}
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("%v (at byte %d)", err, d.InputOffset())
		}
		key := tok.(string) // the decoder only yields strings as object keys
		if seen[key] {
			return nil, fmt.Errorf("the key %q appears twice in one object (at byte %d)", key, d.InputOffset())
		}
		seen[key] = true
		v, err := readJSON(d, depth+1)
		if err != nil {
			return nil, err
		}
		j.keys, j.vals = append(j.keys, key), append(j.vals, v)
	}
	return j, closing(d)
}

// closing reads the } or ] that ends an object or a list.
func closing(d *json.Decoder) error {
	_, err := d.Token()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("the JSON ends before an object or a list is closed")
	}
	return err
}

func readList(d *json.Decoder, depth int) (*jvalue, error) {
	j := &jvalue{kind: ValueList}
	for d.More() {
		v, err := readJSON(d, depth+1)
		if err != nil {
			return nil, err
		}
		j.elems = append(j.elems, v)
	}
	return j, closing(d)
}

// field returns the object's value at key, or nil.
func (j *jvalue) field(key string) *jvalue {
	for i, k := range j.keys {
		if k == key {
			return j.vals[i]
		}
	}
	return nil
}

// value converts j to a Value.
func (j *jvalue) value() Value {
	switch j.kind {
	case ValueList:
		l := make([]Value, len(j.elems))
		for i, e := range j.elems {
			l[i] = e.value()
		}
		return List(l...)
	case ValueObject:
		o := make(map[string]Value, len(j.keys))
		for i, k := range j.keys {
			o[k] = j.vals[i].value()
		}
		return Object(o)
	}
	return j.val
}
