package audience

import (
	"fmt"
	"strconv"
	"time"
)

// ParseWindow reads a time window written as a whole number of days or
// hours: "30d", "7d", "365d", "12h". Windows run from one hour to MaxWindow.
func ParseWindow(s string) (time.Duration, error) {
	bad := fmt.Errorf("%s is not a duration like 30d or 12h", strconv.Quote(s))
	if len(s) < 2 || len(s) > 8 {
		return 0, bad
	}
	unit := time.Hour
	switch s[len(s)-1] {
	case 'd':
		unit = 24 * time.Hour
	case 'h':
	default:
		return 0, bad
	}
	digits := s[:len(s)-1]
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i]) {
			return 0, bad
		}
	}
	n, err := strconv.Atoi(digits)
	if err != nil {
		return 0, bad
	}
	d := time.Duration(n) * unit
	if n == 0 || d > MaxWindow {
		return 0, fmt.Errorf("%s is out of range: windows run from 1h to %s", strconv.Quote(s), FormatWindow(MaxWindow))
	}
	return d, nil
}

// FormatWindow writes a window the way ParseWindow reads it: in days when it
// is a whole number of days, in hours otherwise.
func FormatWindow(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
}

// checkWindow reports what is wrong with a window of a tree built in Go:
// ParseWindow only produces good ones.
func checkWindow(d time.Duration, wholeDays bool) error {
	switch {
	case d < time.Hour || d > MaxWindow:
		return fmt.Errorf("the window %v is out of range: windows run from 1h to %s", d, FormatWindow(MaxWindow))
	case d%time.Hour != 0:
		return fmt.Errorf("the window %v is not a whole number of hours", d)
	case wholeDays && d%(24*time.Hour) != 0:
		return fmt.Errorf("the window %s is not a whole number of days, like 7d", FormatWindow(d))
	}
	return nil
}
