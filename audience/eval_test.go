package audience

import (
	"sync"
	"testing"
	"time"
)

// TestConcurrentEvaluate evaluates one condition from several goroutines,
// as the engine's partitions will; run with -race it checks that a checked
// tree and the pooled evaluators share nothing mutable.
func TestConcurrentEvaluate(t *testing.T) {
	c, err := Parse(`trait country = "NL" and count(event "Order Completed" where revenue > 10 within 30d) >= 2 and birthday within 7d or expr ` + "`traits.plan == \"pro\"`")
	if err != nil {
		t.Fatal(err)
	}
	s := benchSubject()
	const n = 800
	want := make([]Result, n)
	at := func(i int) time.Time { return benchNow.Add(time.Duration(i) * 17 * time.Minute) }
	for i := range want {
		want[i] = Evaluate(c, s, at(i))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 4 {
				if r := Evaluate(c, s, at(i)); r != want[i] {
					t.Errorf("Evaluate at %s = %+v concurrently, %+v alone", at(i), r, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestKeywordsAnyCase reads keywords and units in any case.
func TestKeywordsAnyCase(t *testing.T) {
	upper, err := Parse(`COUNT(EVENT "Order Completed" WHERE Revenue > 10 WITHIN 30D) >= 2 AND NOT In Audience vip AND NEAR(1, 2) WITHIN 5KM`)
	if err != nil {
		t.Fatal(err)
	}
	want := `count(event "Order Completed" where Revenue > 10 within 30d) >= 2 and not in audience vip and near(1, 2) within 5km`
	if got := Format(upper); got != want {
		t.Errorf("Format(Parse(upper case)) = %s, want %s", got, want)
	}
}
