package clean

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
	"testing"
)

// TestAgentFront: the lock-free front of the cache answers as the ARC cache
// does, while readers look agents up at the same time, the front is
// replaced and, past its size, started again.
func TestAgentFront(t *testing.T) {
	ua, err := NewUserAgents(0)
	if err != nil {
		t.Fatal(err)
	}
	ua.frontMax = 8
	agents := []string{chromeAgent, iphoneAgent}
	for i := range 30 {
		agents = append(agents, fmt.Sprintf("curl/8.%d.0", i))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 50 {
				for i := range agents {
					a := agents[(i+g*7+round)%len(agents)]
					got, ok := ua.entryOfJSON([]byte(strconv.Quote(a)))
					want := ua.entry(a)
					if !ok || !bytes.Equal(got.browser, want.browser) || !bytes.Equal(got.os, want.os) || !bytes.Equal(got.device, want.device) || got.agent != want.agent {
						t.Errorf("entryOfJSON(%q) = %+v, %v; want %+v", a, got, ok, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if m := ua.front.Load(); m == nil || len(*m) > ua.frontMax+len(agents) {
		t.Errorf("front holds %v agents, want some, at most %d", m, ua.frontMax+len(agents))
	}
}

func TestEntryOfJSONNotAgents(t *testing.T) {
	ua := testAgents(t)
	for _, raw := range []string{``, `"`, `""`, `"\u0000"x`, `42`, `"abc`, `abc"`, `"\"`, `"\"\""`} {
		_, ok := ua.entryOfJSON([]byte(raw))
		if want := unquotedAgent([]byte(raw)) != ""; ok != want {
			t.Errorf("entryOfJSON(%s) ok = %v, want %v", raw, ok, want)
		}
	}
}
