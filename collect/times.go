package collect

import (
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// timeLayouts are the ISO-8601 forms SDKs send, most common first:
// analytics.js, analytics-node and analytics-go send RFC 3339 with a "Z" or
// an offset; older iOS and Java libraries write the offset as +0000.
var timeLayouts = []string{
	time.RFC3339Nano,           // 2024-05-01T12:00:00.123Z, fraction optional
	"2006-01-02T15:04:05Z0700", // 2024-05-01T12:00:00.123+0000
	"2006-01-02T15:04:05",      // no zone: taken as UTC
	"2006-01-02",               // a date: midnight UTC
}

// parseTime parses an ISO-8601 date-time in one of timeLayouts.
func parseTime(s string) (time.Time, bool) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseTimeField parses a field known to hold a string as a date-time.
func parseTimeField(m *member, name string) (time.Time, *mosaic.Error) {
	s := stringValue(m)
	t, ok := parseTime(s)
	if !ok {
		return time.Time{}, mosaic.Errorf(mosaic.EINVALIDFIELD,
			"Field %q is %q, which is not an ISO-8601 date-time. Send UTC like 2024-05-01T12:00:00.000Z.",
			name, truncate(s, 64))
	}
	return t, nil
}

// appendTime appends t as a JSON string in UTC, RFC 3339 with as many
// fractional digits as needed.
func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}
