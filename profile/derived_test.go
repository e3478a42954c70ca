package profile

import (
	"fmt"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

func derivedEvent(seq uint64, at time.Time, ctx string) *mosaic.Event {
	msg := fmt.Sprintf(`{"type":"page","userId":"u1","timestamp":%q,"context":%s}`, at.Format(time.RFC3339), ctx)
	return &mosaic.Event{Seq: seq, SourceID: "web", MessageID: fmt.Sprint(seq), Type: "page", ReceivedAt: at, Message: []byte(msg)}
}

// TestDerivedTraits: where a customer was last seen from (browser, OS,
// device type, country, city in the enriched context) becomes traits; a
// value that does not change adds no trait history, and a trait the client
// sends itself wins over a derived one.
func TestDerivedTraits(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	iphone := `{"browser":{"name":"Mobile Safari","version":"17.4"},"os":{"name":"iOS"},"device":{"type":"mobile","model":"iPhone"},"location":{"country":"NL","city":"Amsterdam"}}`
	desktop := `{"browser":{"name":"Firefox"},"os":{"name":"Linux"},"device":{"type":"desktop"},"location":{"country":"NL"}}`
	s := NewSet()
	steps := []struct {
		ev         *mosaic.Event
		wantTraits map[string]string
		wantWrites []string // trait history rows the event adds
	}{
		{derivedEvent(1, t0, iphone),
			map[string]string{"last_browser": `"Mobile Safari"`, "last_os": `"iOS"`, "last_device_type": `"mobile"`, "last_country": `"NL"`, "last_city": `"Amsterdam"`},
			[]string{"last_browser", "last_city", "last_country", "last_device_type", "last_os"}},
		{derivedEvent(2, t0.Add(time.Minute), iphone),
			map[string]string{"last_browser": `"Mobile Safari"`, "last_os": `"iOS"`, "last_device_type": `"mobile"`, "last_country": `"NL"`, "last_city": `"Amsterdam"`},
			nil},
		{derivedEvent(3, t0.Add(2*time.Minute), desktop),
			map[string]string{"last_browser": `"Firefox"`, "last_os": `"Linux"`, "last_device_type": `"desktop"`, "last_country": `"NL"`, "last_city": `"Amsterdam"`},
			[]string{"last_browser", "last_device_type", "last_os"}},
		{derivedEvent(4, t0.Add(3*time.Minute), `{"os":{"name":"Android"},"traits":{"last_os":"Custom"},"device":"not an object","location":{"country":7}}`),
			map[string]string{"last_browser": `"Firefox"`, "last_os": `"Custom"`, "last_device_type": `"desktop"`, "last_country": `"NL"`, "last_city": `"Amsterdam"`},
			[]string{"last_os"}},
	}
	for i, st := range steps {
		if err := s.Apply(7, st.ev); err != nil {
			t.Fatal(err)
		}
		b, err := s.Flush()
		if err != nil {
			t.Fatal(err)
		}
		var writes []string
		for _, w := range b.Traits {
			writes = append(writes, w.Name)
		}
		if fmt.Sprint(writes) != fmt.Sprint(st.wantWrites) {
			t.Errorf("event %d: trait writes %v, want %v", i+1, writes, st.wantWrites)
		}
		got := map[string]string{}
		for _, tr := range s.Get(7).Traits() {
			got[tr.Name] = string(tr.Value)
		}
		if fmt.Sprint(got) != fmt.Sprint(st.wantTraits) {
			t.Errorf("event %d: traits %v, want %v", i+1, got, st.wantTraits)
		}
	}
}

// BenchmarkApplyDerived: what the derived traits add to folding a browser
// event: the same track calls with a plain context and with an enriched
// one (browser, OS, device, location), 100 profiles, flushed every 1,000.
func BenchmarkApplyDerived(b *testing.B) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct{ name, ctx string }{
		{"plain", `{"ip":"192.0.2.7","locale":"en-US","page":{"path":"/shoes"}}`},
		{"enriched", `{"ip":"192.0.2.7","locale":"en-US","page":{"path":"/shoes"},"location":{"country":"NL","city":"Amsterdam"},"browser":{"name":"Chrome","version":"126.0"},"os":{"name":"Linux"},"device":{"type":"desktop"}}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			evs := make([]*mosaic.Event, 1000)
			for i := range evs {
				msg := fmt.Sprintf(`{"type":"track","event":"Product Viewed","userId":"u%d","timestamp":%q,"properties":{"sku":"A","price":12.5},"context":%s}`,
					i%100, t0.Add(time.Duration(i)*time.Second).Format(time.RFC3339), c.ctx)
				evs[i] = &mosaic.Event{Seq: uint64(i + 1), SourceID: "web", MessageID: fmt.Sprint(i), Type: "track", ReceivedAt: t0, Message: []byte(msg)}
			}
			s := NewSet()
			b.ReportAllocs()
			n := 0
			cpu := cpuTime()
			for b.Loop() {
				// Each pass goes on in log order, as a customer's events
				// come, rather than replaying old events.
				ev := evs[n%1000]
				ev.Seq = uint64(n + 1)
				if err := s.Apply(uint64(n%100), ev); err != nil {
					b.Fatal(err)
				}
				if n++; n%1000 == 0 {
					if _, err := s.Flush(); err != nil {
						b.Fatal(err)
					}
				}
			}
			// CPU time, less distorted than wall time on a shared machine.
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
