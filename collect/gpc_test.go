package collect

import (
	"encoding/json"
	"testing"
)

// TestSecGPCRecorded checks that the Global Privacy Control header is
// recorded on every event of the request as "gpc": true, that only the
// exact value 1 counts, and that a client cannot set the field itself.
func TestSecGPCRecorded(t *testing.T) {
	for _, c := range []struct {
		name    string
		body    string
		headers []string
		want    bool
	}{
		{"header 1", track("a"), []string{"Sec-GPC", "1"}, true},
		{"no header", track("b"), nil, false},
		{"other value", track("c"), []string{"Sec-GPC", "0"}, false},
		{"garbage value", track("d"), []string{"Sec-GPC", "yes"}, false},
		{"client field without header", `{"type":"track","userId":"u","event":"E","gpc":true}`, nil, false},
		{"client false field with header", `{"type":"track","userId":"u","event":"E","gpc":false}`, []string{"Sec-GPC", "1"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnv(t)
			if w := e.post(t, "/v1/batch", batchOf(c.body, track("second")), c.headers...); w.Code != 200 {
				t.Fatalf("POST = %d %s, want 200", w.Code, w.Body)
			}
			for _, ev := range e.log.events(t) {
				var m map[string]any
				if err := json.Unmarshal(ev.Message, &m); err != nil {
					t.Fatal(err)
				}
				if got := m["gpc"] == true; got != c.want {
					t.Errorf("stored %s: gpc recorded %v, want %v", ev.Message, got, c.want)
				}
				if v, ok := m["gpc"]; ok && v != true {
					t.Errorf("stored %s keeps a client's gpc %v", ev.Message, v)
				}
			}
		})
	}
}
