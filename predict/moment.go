package predict

import (
	"fmt"
	"time"
)

// HourOfWeek is an hour of the week, 0 = Monday 00:00–00:59 through
// 167 = Sunday 23:00–23:59, in some time zone (predicted.best_hour).
type HourOfWeek int

// HoursPerWeek is the number of hours in a week.
const HoursPerWeek = 168

// HourOfWeekOf returns the hour of the week of t in loc (UTC when nil).
func HourOfWeekOf(t time.Time, loc *time.Location) HourOfWeek {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	day := (int(t.Weekday()) + 6) % 7 // Monday = 0
	return HourOfWeek(day*24 + t.Hour())
}

// String formats the hour as "Mon 19:00".
func (h HourOfWeek) String() string {
	days := [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	if h < 0 || h >= HoursPerWeek {
		return fmt.Sprintf("HourOfWeek(%d)", int(h))
	}
	return fmt.Sprintf("%s %02d:00", days[h/24], h%24)
}

// HourHistogram counts engagements by hour of the week.
type HourHistogram [HoursPerWeek]float64

// Add counts an engagement at t, in the customer's time zone loc.
func (h *HourHistogram) Add(t time.Time, loc *time.Location) {
	h[HourOfWeekOf(t, loc)]++
}

// AddHistogram adds another histogram's counts, to build the population's
// from its customers'.
func (h *HourHistogram) AddHistogram(o *HourHistogram) {
	for i := range h {
		h[i] += o[i]
	}
}

// MomentOptions tunes the smoothing of BestHour.
type MomentOptions struct {
	// PriorStrength is how many engagements the population's pattern counts
	// for against the customer's own. Default: 10, so that one stray
	// engagement does not outweigh a clear population peak but two at the
	// same hour do.
	PriorStrength float64
	// Neighbour is the weight an hour gives to the hours just before and
	// after it (people who open at 19:00 also open at 18:00 and 20:00).
	// Default: 0.5; values outside (0, 1] mean the default.
	Neighbour float64
}

func (o MomentOptions) withDefaults() MomentOptions {
	if o.PriorStrength <= 0 {
		o.PriorStrength = 10
	}
	if !(o.Neighbour > 0 && o.Neighbour <= 1) {
		o.Neighbour = 0.5
	}
	return o
}

// BestHour returns the hour of the week at which the customer is most
// likely to engage, for send-time optimisation. Both histograms are
// smoothed over neighbouring hours (the week wraps around), the
// population's is scaled to PriorStrength engagements and added to the
// customer's, and the highest hour wins, ties to the earliest. A customer
// with no engagement gets the population's best hour.
func BestHour(customer, population *HourHistogram, opt MomentOptions) HourOfWeek {
	opt = opt.withDefaults()
	own, pop := customer.smooth(opt.Neighbour), population.smooth(opt.Neighbour)
	var total float64
	for _, v := range pop {
		total += v
	}
	best, bestScore := 0, -1.0
	for h := range HoursPerWeek {
		score := own[h]
		if total > 0 {
			score += opt.PriorStrength * pop[h] / total
		}
		if score > bestScore {
			best, bestScore = h, score
		}
	}
	return HourOfWeek(best)
}

// smooth returns the histogram with each hour given w times its
// neighbours' counts.
func (h *HourHistogram) smooth(w float64) HourHistogram {
	var out HourHistogram
	for i := range h {
		prev, next := h[(i+HoursPerWeek-1)%HoursPerWeek], h[(i+1)%HoursPerWeek]
		out[i] = h[i] + w*(prev+next)
	}
	return out
}
