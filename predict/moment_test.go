package predict

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestHourOfWeekOf(t *testing.T) {
	ny := time.FixedZone("UTC-5", -5*3600)
	tests := []struct {
		t    time.Time
		loc  *time.Location
		want string
	}{
		{time.Date(2024, 6, 3, 0, 10, 0, 0, time.UTC), nil, "Mon 00:00"},       // a Monday
		{time.Date(2024, 6, 9, 23, 59, 0, 0, time.UTC), time.UTC, "Sun 23:00"}, // a Sunday
		{time.Date(2024, 6, 4, 2, 30, 0, 0, time.UTC), ny, "Mon 21:00"},        // Tuesday 02:30 UTC is Monday evening in UTC-5
	}
	for _, tt := range tests {
		if got := HourOfWeekOf(tt.t, tt.loc).String(); got != tt.want {
			t.Errorf("HourOfWeekOf(%v, %v) = %s, want %s", tt.t, tt.loc, got, tt.want)
		}
	}
	if got := HourOfWeek(200).String(); got != "HourOfWeek(200)" {
		t.Errorf("HourOfWeek(200).String() = %q", got)
	}
}

// populationHours spreads engagement over weekday evenings, peaking on
// Thursday at 20:00 local time.
func populationHours(rng *rand.Rand) *HourHistogram {
	var h HourHistogram
	for range 20000 {
		day := rng.IntN(5)
		hour := 17 + rng.IntN(5)
		if rng.Float64() < 0.2 {
			day, hour = 3, 20
		}
		h[day*24+hour]++
	}
	return &h
}

func TestBestHour(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	pop := populationHours(rng)
	thu20 := HourOfWeek(3*24 + 20)
	if got := BestHour(&HourHistogram{}, pop, MomentOptions{}); got != thu20 {
		t.Errorf("BestHour(no history) = %v, want the population's %v", got, thu20)
	}
	// A customer in UTC+9 who opens on Saturdays around 08:00 local time.
	tokyo := time.FixedZone("UTC+9", 9*3600)
	var own HourHistogram
	sat := time.Date(2024, 6, 8, 8, 0, 0, 0, tokyo)
	for i := range 12 {
		jitter := time.Duration(rng.IntN(90)-30) * time.Minute
		own.Add(sat.AddDate(0, 0, 7*i).Add(jitter).UTC(), tokyo)
	}
	if got, want := BestHour(&own, pop, MomentOptions{}), HourOfWeek(5*24+8); got != want {
		t.Errorf("BestHour(Saturday-morning customer) = %v, want %v", got, want)
	}
	// One stray engagement does not beat the population's pattern.
	var stray HourHistogram
	stray.Add(time.Date(2024, 6, 4, 3, 0, 0, 0, time.UTC), time.UTC)
	if got := BestHour(&stray, pop, MomentOptions{}); got != thu20 {
		t.Errorf("BestHour(one stray engagement) = %v, want %v", got, thu20)
	}
	// Two at the same hour do.
	stray.Add(time.Date(2024, 6, 11, 3, 0, 0, 0, time.UTC), time.UTC)
	if got, want := BestHour(&stray, pop, MomentOptions{}), HourOfWeek(24+3); got != want {
		t.Errorf("BestHour(two engagements on Tuesdays at 03:00) = %v, want %v", got, want)
	}
}

// TestBestHourRecoversPlanted plants a best hour per customer and checks
// it is recovered from a dozen engagements with noise.
func TestBestHourRecoversPlanted(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	pop := populationHours(rng)
	var hits int
	const n = 300
	for range n {
		planted := rng.IntN(HoursPerWeek)
		var own HourHistogram
		for range 12 {
			h := planted
			if rng.Float64() < 0.3 {
				h = rng.IntN(HoursPerWeek) // noise
			}
			own[h]++
		}
		if BestHour(&own, pop, MomentOptions{}) == HourOfWeek(planted) {
			hits++
		}
	}
	if hits < n*95/100 {
		t.Errorf("planted best hour recovered for %d of %d customers, want at least 95%%", hits, n)
	}
}

func TestHourHistogramAddHistogram(t *testing.T) {
	var a, b HourHistogram
	a[3], b[3], b[100] = 1, 2, 5
	a.AddHistogram(&b)
	if a[3] != 3 || a[100] != 5 {
		t.Errorf("AddHistogram: a[3], a[100] = %v, %v; want 3, 5", a[3], a[100])
	}
}
