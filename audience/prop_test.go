package audience

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestNextChangeIsSafe is the contract the engine's timers rely on: for any
// condition, subject and moment t, the value stays the same at every moment
// from t up to (not including) NextChange, and forever when NextChange is
// zero. The moments checked include the last nanosecond before NextChange.
func TestNextChangeIsSafe(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c, s := genCondition(t), genSubject(t)
		for range 5 { // several moments per draw: cheap, and finds more
			at := genBase.Add(time.Duration(rapid.IntRange(-10*24*3600, 10*24*3600).Draw(t, "t")) * time.Second)
			checkSafe(t, c, s, at)
		}
	})
}

func checkSafe(t *rapid.T, c *Condition, s Subject, at time.Time) {
	r := Evaluate(c, s, at)
	end := r.NextChange
	if end.IsZero() {
		end = at.Add(800 * day) // beyond every window and two anniversaries
	} else if !end.After(at) {
		t.Fatalf("Evaluate(%s) at %s: NextChange %s is not after now", Format(c), at, end)
	}
	probes := []time.Time{at.Add(time.Nanosecond), end.Add(-time.Nanosecond)}
	for range 4 {
		probes = append(probes, at.Add(time.Duration(rapid.Int64Range(0, int64(end.Sub(at))-1).Draw(t, "probe"))))
	}
	for _, p := range probes {
		if got := Evaluate(c, s, p); got.Value != r.Value {
			t.Fatalf("Evaluate(%s) = %v at %s with NextChange %s, but %v at %s",
				Format(c), r.Value, at, fmtTime(&r.NextChange), got.Value, p)
		}
	}
	if x := Explain(c, s, at); x.Value != r.Value || !x.NextChange.Equal(r.NextChange) {
		t.Fatalf("Explain(%s) = %v next %s, Evaluate %v next %s", Format(c), x.Value, x.NextChange, r.Value, r.NextChange)
	}
}

// TestNextChangeIsExact checks that the time-dependent leaves do not wake
// the engine for nothing: at a leaf's NextChange its value does flip.
func TestNextChangeIsExact(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var c *Condition
		switch rapid.IntRange(0, 2).Draw(t, "kind") {
		case 0:
			c = genEvent(t)
		case 1:
			c = &Condition{Kind: KindBirthday, Within: time.Duration(rapid.IntRange(1, 366).Draw(t, "days")) * day}
		default:
			c = &Condition{Kind: KindTrait, Name: "signed_up", Op: OpAnniversaryWithin, Within: time.Duration(rapid.IntRange(1, 366).Draw(t, "days")) * day}
		}
		if err := Validate(c, nil); err != nil {
			t.Fatal(err)
		}
		s := genSubject(t)
		if c.Kind != KindEvent {
			s.traits["birthday"] = genTraitValue(t, "birthday")
			s.traits["signed_up"] = genTraitValue(t, "signed_up")
		}
		at := genBase.Add(time.Duration(rapid.IntRange(-10*24*3600, 10*24*3600).Draw(t, "t")) * time.Second)
		for step := 0; step < 5; step++ { // follow a few flips, as the timers would
			r := Evaluate(c, s, at)
			if r.NextChange.IsZero() {
				return
			}
			if next := Evaluate(c, s, r.NextChange); next.Value == r.Value {
				t.Fatalf("Evaluate(%s) = %v at %s with NextChange %s, and still %v then",
					Format(c), r.Value, at, r.NextChange, next.Value)
			}
			at = r.NextChange
		}
	})
}

// TestRoundTripsRandom checks both forms' round trips on random trees.
func TestRoundTripsRandom(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		checkRoundTrips(t, genCondition(t))
	})
}
