package privacy

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testConfig(t *testing.T) *Config {
	t.Helper()
	c, err := NewConfig(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// summary is "purpose:granted/source" per decision, in order.
func summary(ds []Decision) []string {
	out := []string{}
	for _, d := range ds {
		g := "deny"
		if d.Granted {
			g = "grant"
		}
		out = append(out, d.Purpose+":"+g+"/"+d.Source)
	}
	return out
}

func TestSignals(t *testing.T) {
	valid := core(4, 1, []int{1, 8, 9}, nil).String()
	for _, c := range []struct {
		name, source, msg string
		want              []string
	}{
		{"no consent object", "web", `{"type":"track","event":"E"}`, []string{}},
		{"consent object empty", "web", `{"context":{"consent":{}}}`, []string{}},
		{"categories empty: all denied but necessary", "web", `{"context":{"consent":{"categoryPreferences":{}}}}`,
			[]string{"analytics:deny/event", "personalisation:deny/event", "marketing:deny/event", "advertising:deny/event", "sale_sharing:deny/event"}},
		{"categories: omitted count false, unknown ignored", "web", `{"context":{"consent":{"categoryPreferences":{"C0002":true,"C0004":false,"Wat":true}}}}`,
			[]string{"analytics:grant/event", "personalisation:deny/event", "marketing:deny/event", "advertising:deny/event", "sale_sharing:deny/event"}},
		{"categories: necessary only when named", "web", `{"context":{"consent":{"categoryPreferences":{"C0001":false}}}}`,
			[]string{"necessary:deny/event", "analytics:deny/event", "personalisation:deny/event", "marketing:deny/event", "advertising:deny/event", "sale_sharing:deny/event"}},
		{"categories not an object", "web", `{"context":{"consent":{"categoryPreferences":"yes"}}}`, []string{}},
		{"consent not an object", "web", `{"context":{"consent":"granted"}}`, []string{}},
		{"valid TCF 2.2", "web", `{"context":{"consent":{"tcfString":"` + valid + `"}}}`,
			[]string{"analytics:grant/tcf", "personalisation:deny/tcf", "advertising:deny/tcf"}},
		{"TCF in a trait", "web", `{"traits":{"tcf_string":"` + valid + `"}}`,
			[]string{"analytics:grant/tcf", "personalisation:deny/tcf", "advertising:deny/tcf"}},
		{"TCF invalid: no consent", "web", `{"context":{"consent":{"tcfString":"not a tc string"}}}`,
			[]string{"analytics:deny/tcf", "personalisation:deny/tcf", "advertising:deny/tcf"}},
		{"TCF truncated: no consent", "web", `{"context":{"consent":{"tcfString":"` + valid[:12] + `"}}}`,
			[]string{"analytics:deny/tcf", "personalisation:deny/tcf", "advertising:deny/tcf"}},
		{"Consent Mode v2", "web", `{"context":{"consent":{"consentMode":{"analytics_storage":"granted","ad_storage":"granted","ad_user_data":"denied"}}}}`,
			[]string{"analytics:grant/gcm", "advertising:deny/gcm", "sale_sharing:deny/gcm"}},
		{"Consent Mode odd value is no consent", "web", `{"context":{"consent":{"consentMode":{"analytics_storage":"yes"}}}}`,
			[]string{"analytics:deny/gcm"}},
		{"GPC from the header comes last", "web", `{"gpc":true,"context":{"consent":{"categoryPreferences":{"DataSharing":true}}}}`,
			[]string{"sale_sharing:grant/event", "analytics:deny/event", "personalisation:deny/event", "marketing:deny/event", "advertising:deny/event", "sale_sharing:deny/gpc"}},
		{"GPC from the browser API", "web", `{"context":{"consent":{"gpc":true}}}`, []string{"sale_sharing:deny/gpc"}},
		{"API record from a client is ignored", "web", `{"mosaicConsent":{"purposes":{"marketing":true}}}`, []string{}},
		{"API record", InternalSource, `{"mosaicConsent":{"purposes":{"marketing":true,"advertising":false,"gone":true},"source":"cmp"}}`,
			[]string{"advertising:deny/cmp", "marketing:grant/cmp"}},
		{"not JSON", "web", `{"context":`, []string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev := &mosaic.Event{Seq: 7, SourceID: c.source, ReceivedAt: t0, Message: []byte(c.msg)}
			got := testConfig(t).Signals(ev)
			if s := summary(got); !cmp.Equal(s, c.want) {
				t.Errorf("Signals(%s) = %v, want %v", c.msg, s, c.want)
			}
			for _, d := range got {
				if d.Seq != 7 || !d.Time.Equal(t0) || d.Signal == "" {
					t.Errorf("decision %+v: want seq 7, time %s and the raw signal", d, t0)
				}
			}
		})
	}
}

func dec(purpose string, granted bool, source string, sec int) Decision {
	return Decision{Purpose: purpose, Granted: granted, Source: source, Time: t0.Add(time.Duration(sec) * time.Second), Seq: uint64(sec)}
}

func TestReplayAndMerge(t *testing.T) {
	p := testConfig(t).Purposes()
	history := []Decision{
		dec(Marketing, true, SourceAPI, 10),
		dec(SaleSharing, false, SourceGPC, 1),
		dec(SaleSharing, true, SourceEvent, 5), // a device grant after GPC: overridden
		dec(Marketing, false, SourceEvent, 20),
		dec(SaleSharing, true, SourceAPI, 30), // explicit: opts back in
	}
	for _, c := range []struct {
		at   int
		want map[string]bool
	}{
		{0, map[string]bool{Marketing: false, SaleSharing: false, Necessary: true}},
		{6, map[string]bool{Marketing: false, SaleSharing: false, Necessary: true}},
		{15, map[string]bool{Marketing: true, SaleSharing: false, Necessary: true}},
		{25, map[string]bool{Marketing: false, SaleSharing: false, Necessary: true}},
		{35, map[string]bool{Marketing: false, SaleSharing: true, Necessary: true}},
	} {
		s := Replay(append([]Decision(nil), history...), t0.Add(time.Duration(c.at)*time.Second))
		for purpose, want := range c.want {
			if got := s.Granted(p, purpose); got != want {
				t.Errorf("at +%ds: Granted(%s) = %v, want %v", c.at, purpose, got, want)
			}
		}
	}
	h := append([]Decision(nil), history...)
	Replay(h, time.Time{})
	if !h[1].Overridden || h[0].Overridden {
		t.Errorf("Replay marks = %+v, want only the device grant after GPC overridden", h)
	}

	// Merging two profiles' states gives what replaying their joint
	// history gives, whichever side survives.
	a, b := State{}, State{}
	for _, d := range []Decision{dec(SaleSharing, false, SourceGPC, 1), dec(Analytics, true, SourceEvent, 2)} {
		a.Apply(&d)
	}
	for _, d := range []Decision{dec(SaleSharing, true, SourceEvent, 3), dec(Analytics, false, SourceTCF, 4), dec(Marketing, true, SourceAPI, 5)} {
		b.Apply(&d)
	}
	joint := Replay([]Decision{dec(SaleSharing, false, SourceGPC, 1), dec(Analytics, true, SourceEvent, 2), dec(SaleSharing, true, SourceEvent, 3), dec(Analytics, false, SourceTCF, 4), dec(Marketing, true, SourceAPI, 5)}, time.Time{})
	ab, ba := State{}, State{}
	ab.Merge(a)
	ab.Merge(b)
	ba.Merge(b)
	ba.Merge(a)
	if !cmp.Equal(ab, joint) || !cmp.Equal(ba, joint) {
		t.Errorf("merge a+b = %v\nb+a = %v\nwant %v", ab, ba, joint)
	}
	if (State{}).Granted(p, "unknown") || !(State{}).Granted(p) {
		t.Errorf("Granted of an unknown purpose must be false, of none true")
	}
}
