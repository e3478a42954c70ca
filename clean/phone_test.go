package clean

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time the process has used: on this shared
// machine wall time mostly measures the neighbours.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPhoneFormat formats numbers that are all new, as in an import
// of a contact export, where a cache never hits: with the fast path
// (format) and with the full parser alone (parse). It reports CPU time per
// number as cpu-ns/op.
func BenchmarkPhoneFormat(b *testing.B) {
	for _, tc := range []struct{ name, format, region string }{
		{"national-NL", "06 %08d", "NL"},
		{"e164-NL", "+316%08d", "NL"},
		{"international-BE", "0032 470 %06d", "NL"},
		{"national-US", "(415) 555-%04d", "US"},
	} {
		for _, fn := range []struct {
			name string
			f    func(v, region string) string
		}{{"format", formatPhone}, {"parse", parsePhone}} {
			b.Run(tc.name+"/"+fn.name, func(b *testing.B) {
				nums := make([]string, 10000)
				for i := range nums {
					nums[i] = fmt.Sprintf(tc.format, 10000000+i)
					if tc.region == "US" || tc.name == "international-BE" {
						nums[i] = fmt.Sprintf(tc.format, i)
					}
				}
				start := cpuTime()
				i := 0
				for b.Loop() {
					if fn.f(nums[i%len(nums)], tc.region) == "" {
						b.Fatalf("%s(%q) failed", fn.name, nums[i%len(nums)])
					}
					i++
				}
				b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

var phoneRegions = []string{"NL", "BE", "DE", "GB", "FR", "US", "CA", "IT", "AU", "BR", "AR", "MX", "IN", "JP", "RU", "ZA", "SE", "CH", "ES", ""}

// TestPhoneFastPathAgrees checks that wherever the fast path gives an
// answer, the full parser gives the same one, over many generated numbers
// in the shapes exports hold.
func TestPhoneFastPathAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	prefixes := []string{"", "0", "00", "+", "+31", "0031", "+1", "1", "+39 0", "+44 (0)", "06", "+32 4", "+49 1", "+61 4", "+55 11 9", "+54 9 11", "+52 1"}
	seps := []string{"", " ", "-", ".", "/", "(", ")"}
	agreed, fast := 0, 0
	for range 30000 {
		var sb strings.Builder
		sb.WriteString(prefixes[rng.IntN(len(prefixes))])
		for n := 4 + rng.IntN(10); n > 0; n-- {
			if rng.IntN(4) == 0 {
				sb.WriteString(seps[rng.IntN(len(seps))])
			}
			sb.WriteByte(byte('0' + rng.IntN(10)))
		}
		v := sb.String()
		region := phoneRegions[rng.IntN(len(phoneRegions))]
		checkFastPath(t, v, region)
		if fastE164(v, region) != "" {
			fast++
		}
		agreed++
	}
	// Real shapes, valid ones included.
	for _, tc := range []struct{ v, region, want string }{
		{"06 12345678", "NL", "+31612345678"},
		{"+31 6 1234 5678", "", "+31612345678"},
		{"0031-6-12345678", "BE", "+31612345678"},
		{"0470 12 34 56", "BE", "+32470123456"},
		{"(415) 555-2671", "US", "+14155552671"},
		{"1 415 555 2671", "US", "+14155552671"},
		{"030 1234567", "DE", "+49301234567"},
		{"07911 123456", "GB", "+447911123456"},
		{"+39 06 1234 5678", "IT", "+390612345678"}, // Italian leading zero: the parser's
		{"06 1234 5678", "IT", "+390612345678"},
	} {
		checkFastPath(t, tc.v, tc.region)
		if got := formatPhone(tc.v, tc.region); got != tc.want {
			t.Errorf("formatPhone(%q, %q) = %q, want %q", tc.v, tc.region, got, tc.want)
		}
	}
	if fast < agreed/30 {
		t.Errorf("the fast path answered %d of %d generated numbers; the test no longer exercises it", fast, agreed)
	}
}

func checkFastPath(t *testing.T, v, region string) {
	t.Helper()
	fast := fastE164(v, region)
	if fast == "" {
		return
	}
	pv := v
	if strings.HasPrefix(pv, "00") {
		pv = "+" + pv[2:]
	}
	if slow := parsePhone(pv, orZZ(region)); slow != fast {
		t.Errorf("fastE164(%q, %q) = %q, the parser says %q", v, region, fast, slow)
	}
}

func orZZ(region string) string {
	if region == "" {
		return "ZZ"
	}
	return region
}

// FuzzPhoneFastPath checks the fast path against the full parser on any
// input.
func FuzzPhoneFastPath(f *testing.F) {
	for _, s := range []string{"06 12345678", "+31612345678", "0032 470 123456", "(415) 555-2671", "+39 06 1234 5678", "00", "+"} {
		f.Add(s, "NL")
	}
	f.Fuzz(func(t *testing.T, v, region string) {
		if len(region) != 2 {
			region = "NL"
		}
		checkFastPath(t, v, region)
	})
}
