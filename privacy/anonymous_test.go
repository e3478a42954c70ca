package privacy

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseExpiry(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Expiry
		err  bool
	}{
		{"13mo", Expiry{Months: 13}, false},
		{" 400D ", Expiry{Days: 400}, false},
		{"off", Expiry{}, false},
		{"0", Expiry{}, false},
		{"6d", Expiry{}, true},
		{"0mo", Expiry{}, true},
		{"-3mo", Expiry{}, true},
		{"13", Expiry{}, true},
		{"1y", Expiry{}, true},
		{"9999mo", Expiry{}, true},
	} {
		got, err := ParseExpiry(c.in)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("ParseExpiry(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.err)
		}
	}
	now := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	if got, want := (Expiry{Months: 13}).Cutoff(now), time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("13mo cutoff at %s = %s, want %s (Go's month arithmetic normalises Feb 31)", now, got, want)
	}
}

func TestParsePurposes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // name:default, joined; "" for an error
	}{
		{"", "necessary:true analytics:false personalisation:false marketing:false advertising:false sale_sharing:false"},
		{"necessary:granted, marketing ,support_chat", "necessary:true marketing:false support_chat:false"},
		{"marketing,marketing", ""},
		{"Marketing", ""},
		{"marketing:yes", ""},
		{"a,,b", ""},
	} {
		ps, err := ParsePurposes(c.in)
		var got []string
		for _, p := range ps {
			got = append(got, fmt.Sprintf("%s:%v", p.Name, p.Default))
		}
		if (err != nil) != (c.want == "") || err == nil && strings.Join(got, " ") != c.want {
			t.Errorf("ParsePurposes(%q) = %v, %v; want %q", c.in, got, err, c.want)
		}
	}
}
