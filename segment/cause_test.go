package segment

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestCauseJSON: a cause's encoding is json.Marshal's, for the causes the
// engine makes and for names with every kind of character JSON escapes.
func TestCauseJSON(t *testing.T) {
	causes := []cause{
		{},
		{Kind: "event", Seq: 12, Type: "track", Event: "Order Completed"},
		{Kind: "time"},
		{Kind: "merge", Seq: 1<<64 - 1, Into: "prof_00000000000000000001"},
		{Kind: "split", Seq: 3},
		{Kind: "event", Seq: 4, Type: "identify"},
		{Kind: "event", Event: `Caf\u00e9 "Visited" <b> & co`},
		{Kind: "event", Event: "line\nbreak\ttab\x00\x7f"},
		{Kind: "event", Event: "bad \xff utf-8, \u2028 \u2029, é, 日本"},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		causes = append(causes, cause{Kind: randomName(rng), Seq: rng.Uint64() >> rng.IntN(65), Type: randomName(rng), Event: randomName(rng), Into: randomName(rng)})
	}
	for _, c := range causes {
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.appendJSON([]byte("x")); string(got) != "x"+string(want) {
			t.Fatalf("%#v.appendJSON(x) = %s, want x%s", c, got, want)
		}
	}
}

// randomName returns an empty string a third of the time, else a short
// one, mostly of letters, sometimes with a character JSON escapes.
func randomName(rng *rand.Rand) string {
	if rng.IntN(3) == 0 {
		return ""
	}
	const plain = "abcXYZ 09_-./:"
	special := []string{`"`, `\`, "<", ">", "&", "\n", "\x01", "\x7f", "\xff", "é", "\u2028"}
	var b []byte
	for range 1 + rng.IntN(12) {
		if rng.IntN(20) == 0 {
			b = append(b, special[rng.IntN(len(special))]...)
		} else {
			b = append(b, plain[rng.IntN(len(plain))])
		}
	}
	return string(b)
}

// BenchmarkCauseJSON compares json.Marshal with appendJSON on an event's
// cause, encoded once for each event that flips a membership.
func BenchmarkCauseJSON(b *testing.B) {
	c := cause{Kind: "event", Seq: 123456789, Type: "track", Event: "Order Completed"}
	b.Run("Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, _ := json.Marshal(c)
			_ = string(data)
		}
	})
	b.Run("appendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = c.appendJSON(buf[:0])
			_ = string(buf)
		}
	})
}
