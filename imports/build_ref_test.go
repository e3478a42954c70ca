package imports

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/clean"
)

// The builder as it was before it wrote rows straight into JSON: a map of
// maps per row, encoded with appendJSON (which TestAppendJSONAsMarshal
// holds to encoding/json). Kept as the reference the builder's messages
// and messageIds must equal byte for byte: a re-import after an upgrade
// must make the same ids.

func refBuild(b *builder, rec record, line, n int) ([]byte, *rowError) {
	msg := map[string]any{}
	traits, props, ctxTraits, ctx := map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}
	typ := mosaic.TypeIdentify
	if b.mapping.Event != "" {
		typ = mosaic.TypeTrack
		msg["event"] = b.mapping.Event
	}
	for i := range b.fields {
		f := &b.fields[i]
		v, ok := rec.value(f.Column)
		if !ok {
			return nil, &rowError{line: line, column: f.Column, reason: "the row has no value for this column", raw: rec.text()}
		}
		if isEmpty(v) {
			continue
		}
		if err := refSet(msg, traits, props, ctx, f, v); err != "" {
			return nil, &rowError{line: line, column: f.Column, reason: err, raw: rec.text()}
		}
	}
	if _, ok := msg["event"]; typ == mosaic.TypeIdentify && ok {
		typ = mosaic.TypeTrack
	}
	msg["type"] = typ
	if typ == mosaic.TypeTrack {
		if len(props) > 0 {
			msg["properties"] = props
		}
		for k, v := range traits {
			ctxTraits[k] = v
		}
	} else {
		for k, v := range props {
			traits[k] = v
		}
		if len(traits) > 0 {
			msg["traits"] = traits
		}
	}
	if len(ctxTraits) > 0 {
		ctx["traits"] = ctxTraits
	}
	ctx["library"] = libraryJSON
	ctx["import"] = json.RawMessage(b.importJSON(line, n))
	msg["context"] = ctx
	if _, ok := msg["messageId"]; !ok {
		msg["messageId"] = refMessageID(b, rec, msg, ctxTraits)
	}
	return appendJSON(nil, msg), nil
}

func refSet(msg, traits, props, ctx map[string]any, f *compiledField, v any) string {
	switch f.kind {
	case tUserID:
		msg["userId"] = idText(v)
	case tAnonymousID:
		msg["anonymousId"] = idText(v)
	case tMessageID:
		msg["messageId"] = idText(v)
	case tEvent:
		msg["event"] = idText(v)
	case tTimestamp:
		t, _, ok := clean.Time(idText(v))
		if !ok {
			return fmt.Sprintf("%q is not a date or time (write e.g. 2024-05-01T12:00:00Z or 01-05-2024)", idText(v))
		}
		msg["timestamp"] = clean.FormatTime(t, false)
	case tRevenue:
		n, ok := number(v)
		if !ok {
			return fmt.Sprintf("%q is not an amount (write e.g. 12.50 or 12,50)", idText(v))
		}
		props["revenue"] = n
	case tIdentifier, tTrait:
		traits[f.name] = v
	case tProperty:
		props[f.name] = v
	case tContext:
		ctx[f.name] = v
	}
	return ""
}

func refMessageID(b *builder, rec record, msg, ctxTraits map[string]any) string {
	h := sha256.New()
	h.Write([]byte(b.sourceID))
	h.Write([]byte{0})
	if b.mapping.Key != "" {
		v, _ := rec.value(b.mapping.Key)
		h.Write([]byte("key\x00" + b.mapping.Event + "\x00" + idText(v)))
	} else {
		content := map[string]any{}
		for k, v := range msg {
			if k != "context" {
				content[k] = v
			}
		}
		content["ctx"] = ctxTraits
		enc, _ := json.Marshal(content)
		h.Write(enc)
	}
	return "imp-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// buildCase is a mapping and the JSON Lines rows it is built from.
type buildCase struct {
	mapping Mapping
	rows    []string
}

var buildCases = []buildCase{
	{Mapping{Key: "id", Fields: []Field{{"user_id", "id"}, {"email", "mail"}, {"firstName", "fn"}, {"phone", "tel"}, {"country", "land"}, {"birthday", "dob"}}},
		[]string{`{"id":"K1","mail":" A@B.NL ","fn":"Jan","tel":"06 12345678","land":"Nederland","dob":"01-02-1990"}`,
			`{"id":7,"mail":"","fn":"  ","tel":null,"land":"BE","dob":"x"}`}},
	{Mapping{Fields: []Field{{"anonymous_id", "a"}, {"traits.plan", "p"}, {"properties.sku", "s"}, {"context.locale", "l"}, {"score", "n"}}},
		[]string{`{"a":"x","p":"pro","s":"S1","l":"nl-NL","n":12.5}`, `{"a":"<b>&","p":{"z":1,"a":[true,null]},"s":"é\u2028","l":"","n":"1e3"}`}},
	{Mapping{Event: "Order Completed", Fields: []Field{{"user_id", "u"}, {"revenue", "r"}, {"timestamp", "t"}, {"email", "e"}, {"total", "tot"}, {"context.traits", "ct"}, {"context.library", "lib"}}},
		[]string{`{"u":"u1","r":"12,50","t":"2024-05-01 12:00","e":"x@y.nl","tot":"3","ct":"c","lib":"l"}`, `{"u":"u2","r":"x"}`, `{"u":"u3","r":3,"t":"nope"}`}},
	{Mapping{Fields: []Field{{"user_id", "u"}, {"event", "ev"}, {"message_id", "m"}, {"email", "e"}, {"traits.email", "e2"}, {"properties.email", "e3"}}},
		[]string{`{"u":"u1","ev":"Signed Up","e":"a@b.nl","e2":"c@d.nl","e3":"p@q.nl"}`, `{"u":"u1","m":"given","e":"a@b.nl","e3":"p@q.nl"}`, `{"u":"u1","e3":"p@q.nl","e2":"z"}`}},
}

// checkBuild builds line as a JSON Lines row of mapping mp with the
// builder and the reference, and compares them.
func checkBuild(t *testing.T, mp Mapping, line string) {
	t.Helper()
	fields, err := mp.compile(nil)
	if err != nil {
		return
	}
	var obj map[string]any
	d := json.NewDecoder(strings.NewReader(line))
	d.UseNumber()
	if d.Decode(&obj) != nil || obj == nil {
		return
	}
	rec := &jsonRecord{raw: line, obj: obj}
	b := &builder{sourceID: "src-1", mapping: &mp, fields: fields, importID: "imp-1", file: "f.jsonl"}
	want, werr := refBuild(b, rec, 3, 2)
	got, gerr := b.build([]byte("prefix"), rec, 3, 2)
	if (werr == nil) != (gerr == nil) || werr != nil && *werr != *gerr {
		t.Fatalf("build(%s, %s) error %v, the reference's %v", mp.String(), line, gerr, werr)
	}
	if werr == nil && !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Errorf("build(%s, %s) =\n %s\nthe reference wrote\n %s", mp.String(), line, got[6:], want)
	}
	// A second row through the same builder: nothing of the first stays.
	if got2, _ := b.build(nil, rec, 3, 2); werr == nil && !bytes.Equal(got2, want) {
		t.Errorf("build(%s, %s) the second time =\n %s\nthe reference wrote\n %s", mp.String(), line, got2, want)
	}
}

// TestBuildAsReference: the builder writes the reference's messages and
// messageIds, byte for byte.
func TestBuildAsReference(t *testing.T) {
	for _, c := range buildCases {
		for _, row := range c.rows {
			checkBuild(t, c.mapping, row)
		}
	}
}

// FuzzBuild: the same for any row of any of the cases' mappings.
func FuzzBuild(f *testing.F) {
	for i, c := range buildCases {
		for _, row := range c.rows {
			f.Add(uint8(i), row)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, row string) {
		checkBuild(t, buildCases[int(which)%len(buildCases)].mapping, row)
	})
}
