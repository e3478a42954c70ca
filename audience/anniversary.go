package audience

import (
	"slices"
	"time"
)

// Anniversaries ("birthday in the next 7 days") are decided by calendar
// day in UTC: a window of n days holds on day D when the date's next
// anniversary on or after D falls before D+n, so "within 7d" covers today
// and the six days after it. The value can only change at a UTC midnight.
// A February 29 date has its anniversary on February 28 in common years.

const day = 24 * time.Hour

func (e *evaluator) anniversary(c *Condition, v Value) outcome {
	var o outcome
	var next time.Time
	date, ok := dateOf(v)
	if ok {
		today := civilDay(e.now)
		n := int(c.Within / day)
		o.value = anniversaryHolds(date, today, n)
		o.next = anniversaryFlip(date, today, n, o.value)
		next = nextAnniversary(date, today)
	}
	if x := e.annotate(c, &o); x != nil {
		x.setActual(v)
		if ok {
			x.Anniversary = next.Format(time.DateOnly)
		}
	}
	return o
}

// dateOf reads a date trait: YYYY-MM-DD or RFC 3339, taking the calendar
// date as written.
func dateOf(v Value) (time.Time, bool) {
	if v.kind != ValueString {
		return time.Time{}, false
	}
	t, _, ok := parseDate(v.s)
	return t, ok
}

// civilDay returns the start of t's day in UTC.
func civilDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// anniversaryIn returns date's anniversary in year y.
func anniversaryIn(date time.Time, y int) time.Time {
	_, m, d := date.Date()
	if m == time.February && d == 29 && !isLeap(y) {
		d = 28
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// nextAnniversary returns the first anniversary of date on or after day.
func nextAnniversary(date, day time.Time) time.Time {
	a := anniversaryIn(date, day.Year())
	if a.Before(day) {
		a = anniversaryIn(date, day.Year()+1)
	}
	return a
}

func anniversaryHolds(date, today time.Time, n int) bool {
	return nextAnniversary(date, today).Sub(today) < time.Duration(n)*day
}

// anniversaryFlip returns the first midnight after today at which the value
// differs from now, or zero if it never does. The value changes only on the
// day an anniversary enters the window (n-1 days before it) or the day after
// one. Six anniversaries cover every pattern of 365- and 366-day years, so
// if none of their change days flips the value, nothing ever will. Days are
// counted as integers from today, which keeps this free of allocations.
func anniversaryFlip(date, today time.Time, n int, now bool) time.Time {
	var annivs [7]int // days from today to the next seven anniversaries
	a := nextAnniversary(date, today)
	for i := range annivs {
		annivs[i] = int(a.Sub(today) / day)
		a = anniversaryIn(date, a.Year()+1)
	}
	var days [12]int // candidate change days, days from today
	k := 0
	for _, an := range annivs[:6] {
		for _, d := range [2]int{an - n + 1, an + 1} {
			if d > 0 {
				days[k] = d
				k++
			}
		}
	}
	slices.Sort(days[:k])
	for _, d := range days[:k] {
		next := 0 // the first anniversary on or after day d
		for annivs[next] < d {
			next++
		}
		if (annivs[next]-d < n) != now {
			return today.Add(time.Duration(d) * day)
		}
	}
	return time.Time{}
}
