package clean

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/mosaic-cdp/mosaic"
)

// Tracking-plan modes.
const (
	ModeAllow = "allow" // store the event, record violations
	ModeFlag  = "flag"  // store the event with context.violations, record violations
	ModeBlock = "block" // quarantine the event with its violations
)

// Plan is a source's tracking plan: the events it may send, each with a
// JSON Schema of its properties, and a JSON Schema of identify traits.
type Plan struct {
	Mode string `json:"mode"`
	// Events maps each planned event name to a JSON Schema of its
	// properties ({} accepts any).
	Events map[string]json.RawMessage `json:"events"`
	// Traits is a JSON Schema of identify calls' traits; empty: unchecked.
	Traits json.RawMessage `json:"traits,omitempty"`
	// AllowUnplanned accepts track events not in Events without a violation.
	AllowUnplanned bool `json:"allow_unplanned,omitempty"`
}

// Violation is one way an event broke its source's plan.
type Violation struct {
	Event    string `json:"event"`              // the event name; "identify" for traits
	Property string `json:"property,omitempty"` // "total", "address.city"; "" for the event itself
	Keyword  string `json:"keyword"`            // "unplanned", "required", "type", "enum", ...
	Message  string `json:"message"`
}

// ViolationRecorder receives violations as they are found. It must not
// block.
type ViolationRecorder interface {
	RecordViolations(sourceID string, example []byte, vs []Violation)
}

// compiledPlan is a Plan ready to validate.
type compiledPlan struct {
	Plan
	events map[string]*jsonschema.Schema
	traits *jsonschema.Schema
}

func planKey(sourceID string) string { return "clean.plan." + sourceID }

// compile checks and compiles a plan; errors say which schema is wrong.
func compile(p *Plan) (*compiledPlan, error) {
	switch p.Mode {
	case ModeAllow, ModeFlag, ModeBlock:
	case "":
		p.Mode = ModeAllow
	default:
		return nil, mosaic.Errorf(mosaic.EINVALID, "Tracking plan mode %q is not allow, flag or block.", p.Mode)
	}
	cp := &compiledPlan{Plan: *p, events: make(map[string]*jsonschema.Schema, len(p.Events))}
	for name, raw := range p.Events {
		s, err := compileSchema(raw)
		if err != nil {
			return nil, mosaic.Errorf(mosaic.EINVALID, "The schema of event %q is not a valid JSON Schema: %v", name, err)
		}
		cp.events[name] = s
	}
	if len(p.Traits) > 0 {
		s, err := compileSchema(p.Traits)
		if err != nil {
			return nil, mosaic.Errorf(mosaic.EINVALID, "The traits schema is not a valid JSON Schema: %v", err)
		}
		cp.traits = s
	}
	return cp, nil
}

func compileSchema(raw json.RawMessage) (*jsonschema.Schema, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		raw = json.RawMessage(`{}`)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("plan.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("plan.json")
}

// SetPlan validates and stores a source's tracking plan; it applies to
// events received from then on. A nil plan removes it.
func (c *Cleaner) SetPlan(ctx context.Context, sourceID string, p *Plan) error {
	val := ""
	if p != nil {
		if _, err := compile(p); err != nil {
			return err
		}
		b, _ := json.Marshal(p)
		val = string(b)
	}
	if err := c.opts.Settings.PutSetting(ctx, planKey(sourceID), val); err != nil {
		return err
	}
	c.forget(sourceID)
	return nil
}

// Plan returns a source's tracking plan; ENOTFOUND if it has none.
func (c *Cleaner) Plan(ctx context.Context, sourceID string) (*Plan, error) {
	v, err := c.opts.Settings.Setting(ctx, planKey(sourceID))
	if err != nil {
		return nil, err
	}
	if v == "" {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "Source %s has no tracking plan. Set one with PUT /api/v1/sources/%s/plan.", sourceID, sourceID)
	}
	var p Plan
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return nil, fmt.Errorf("clean: stored plan of source %s: %w", sourceID, err)
	}
	return &p, nil
}

func (c *Cleaner) loadPlan(ctx context.Context, sourceID string) (*compiledPlan, error) {
	p, err := c.Plan(ctx, sourceID)
	var merr *mosaic.Error
	if errors.As(err, &merr) && merr.Code == mosaic.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return compile(p)
}

// checkPlan validates msg against the plan and acts by its mode.
func (c *Cleaner) checkPlan(src *mosaic.Source, p *compiledPlan, typ string, msg []byte) ([]byte, *mosaic.Error) {
	vs := p.check(typ, msg)
	if len(vs) == 0 {
		return msg, nil
	}
	if c.opts.Violations != nil {
		c.opts.Violations.RecordViolations(src.ID, msg, vs)
	}
	switch p.Mode {
	case ModeBlock:
		var sb strings.Builder
		for i, v := range vs {
			if i > 0 {
				sb.WriteString("; ")
			}
			sb.WriteString(v.String())
		}
		return nil, mosaic.Errorf(EPLANVIOLATION,
			"The event breaks the source's tracking plan: %s. Fix the event or extend the plan (PUT /api/v1/sources/%s/plan).", sb.String(), src.ID)
	case ModeFlag:
		return flag(msg, vs), nil
	}
	return msg, nil
}

// EPLANVIOLATION is the quarantine code of events a blocking plan refused.
const EPLANVIOLATION = "plan_violation"

func (v Violation) String() string {
	if v.Property == "" {
		return v.Message
	}
	return v.Property + ": " + v.Message
}

// flag adds the violations to the message's context.violations.
func flag(msg []byte, vs []Violation) []byte {
	top, ok := members(msg, make([]member, 0, memberHint))
	if !ok {
		return msg
	}
	rec, _ := json.Marshal(vs)
	vm := member{Key: []byte("violations"), Val: rec}
	for i := range top {
		if string(top[i].Key) == "context" {
			cms, _ := members(top[i].Val, make([]member, 0, memberHint))
			top[i].Val = writeObject(nil, append(cms, vm))
			return writeObject(nil, top)
		}
	}
	return writeObject(nil, append(top, member{Key: []byte("context"), Val: writeObject(nil, []member{vm})}))
}

// check returns the ways msg breaks the plan.
func (p *compiledPlan) check(typ string, msg []byte) []Violation {
	top, ok := members(msg, make([]member, 0, memberHint))
	if !ok {
		return nil
	}
	field := func(name string) []byte {
		for i := len(top) - 1; i >= 0; i-- {
			if string(top[i].Key) == name {
				return top[i].Val
			}
		}
		return nil
	}
	switch typ {
	case mosaic.TypeTrack:
		var name string
		_ = json.Unmarshal(field("event"), &name)
		s, planned := p.events[name]
		if !planned {
			if p.AllowUnplanned {
				return nil
			}
			return []Violation{{Event: name, Keyword: "unplanned", Message: fmt.Sprintf("event %q is not in the tracking plan", name)}}
		}
		return validate(s, name, field("properties"))
	case mosaic.TypeIdentify:
		if p.traits == nil {
			return nil
		}
		return validate(p.traits, "identify", field("traits"))
	}
	return nil
}

var printer = message.NewPrinter(language.English)

// validate checks an object (absent is {}) against s.
func validate(s *jsonschema.Schema, event string, obj []byte) []Violation {
	if len(obj) == 0 || string(obj) == "null" {
		obj = []byte(`{}`)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(obj))
	if err != nil {
		return nil
	}
	err = s.Validate(doc)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var vs []Violation
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		vs = append(vs, leafViolation(event, e))
	}
	walk(ve)
	sort.Slice(vs, func(i, j int) bool { return vs[i].Property < vs[j].Property })
	return vs
}

func leafViolation(event string, e *jsonschema.ValidationError) Violation {
	path := strings.Join(e.InstanceLocation, ".")
	kw := ""
	if kp := e.ErrorKind.KeywordPath(); len(kp) > 0 {
		kw = kp[len(kp)-1]
	}
	if req, ok := e.ErrorKind.(*kind.Required); ok && len(req.Missing) > 0 {
		path = strings.TrimPrefix(path+"."+req.Missing[0], ".")
		kw = "required"
	}
	return Violation{Event: event, Property: path, Keyword: kw, Message: e.ErrorKind.LocalizedString(printer)}
}
