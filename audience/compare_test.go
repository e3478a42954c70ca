package audience

import (
	"testing"
	"time"
)

// TestComparisons checks the coercion rules of docs/audiences.md ("How
// values compare") one by one: each row is a trait value and a text-form
// test on it.
func TestComparisons(t *testing.T) {
	tests := []struct {
		name  string
		trait string // JSON; "" for a profile without the trait
		test  string // what follows "trait x"
		want  bool
	}{
		{"string equal", `"NL"`, `= "NL"`, true},
		{"string equal is case-sensitive", `"nl"`, `= "NL"`, false},
		{"string not equal", `"BE"`, `!= "NL"`, true},
		{"strings order bytewise", `"Bob"`, `< "alice"`, true},
		{"number equal", `42`, `= 42`, true},
		{"number order", `9`, `< 10`, true},
		{"numeric string read as number", `"12.50"`, `> 12.4`, true},
		{"numeric string equal", `"1e2"`, `= 100`, true},
		{"non-numeric string vs number", `"twelve"`, `> 1`, false},
		{"non-numeric string not equal to number", `"twelve"`, `!= 12`, true},
		{"number vs string literal compares text", `1012`, `= "1012"`, true},
		{"number text ordering", `9`, `> "10"`, true},
		{"bool equal", `true`, `= true`, true},
		{"bool string equal", `"false"`, `= false`, true},
		{"bool vs number", `true`, `= 1`, false},
		{"date-only vs date-only", `"2024-03-01"`, `> "2024-02-29"`, true},
		{"timestamp vs date at day precision: same day", `"2024-01-01T23:30:00Z"`, `= "2024-01-01"`, true},
		{"timestamp vs date: > excludes the day", `"2024-01-01T23:30:00Z"`, `> "2024-01-01"`, false},
		{"timestamp vs date: >= includes the day", `"2024-01-01T00:00:00Z"`, `>= "2024-01-01"`, true},
		{"timestamp's written date counts", `"2024-01-01T23:30:00-05:00"`, `= "2024-01-01"`, true},
		{"timestamps compare as instants", `"2024-01-01T10:00:00+02:00"`, `< "2024-01-01T09:00:00Z"`, true},
		{"timestamps equal across offsets", `"2024-01-01T10:00:00+02:00"`, `= "2024-01-01T08:00:00Z"`, true},
		{"chronological, not lexical", `"2024-01-01T10:00:00+05:00"`, `< "2024-01-01T06:00:00Z"`, true},
		{"not a date vs date literal", `"soon"`, `> "2024-01-01"`, false},
		{"not a date is not equal", `"soon"`, `!= "2024-01-01"`, true},
		{"in", `"BE"`, `in ["NL", "BE"]`, true},
		{"in numbers", `"2"`, `in [1, 2, 3]`, true},
		{"not in", `"DE"`, `in ["NL", "BE"]`, false},
		{"contains substring", `"anna@example.com"`, `contains "@example."`, true},
		{"contains in list", `["vip", "beta"]`, `contains "beta"`, true},
		{"contains not in list", `["vip", "beta"]`, `contains "alpha"`, false},
		{"contains number in list", `[1, 2]`, `contains 2`, true},
		{"starts_with", `"+31612345678"`, `starts_with "+31"`, true},
		{"starts_with number text", `31612345678`, `starts_with "316"`, true},
		{"list: any element", `["NL", "BE"]`, `= "BE"`, true},
		{"list: != when none equals", `["NL", "BE"]`, `!= "BE"`, false},
		{"list: != when none equals (true)", `["NL", "BE"]`, `!= "DE"`, true},
		{"list: in", `["NL", "DE"]`, `in ["DE", "FR"]`, true},
		{"object is not comparable", `{"city": "Delft"}`, `= "Delft"`, false},
		{"exists", `"x"`, `exists`, true},
		{"exists: empty string exists", `""`, `exists`, true},
		{"exists: null does not", `null`, `exists`, false},
		{"not_exists: missing", ``, `not_exists`, true},
		{"not_exists: present", `0`, `not_exists`, false},
		{"missing: = is false", ``, `= "NL"`, false},
		{"missing: != is false too", ``, `!= "NL"`, false},
		{"missing: < is false", ``, `< 10`, false},
		{"null: != is false", `null`, `!= "NL"`, false},
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("trait x " + tt.test)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			s := &memSubject{traits: map[string]Value{}}
			if tt.trait != "" {
				v, err := ParseValue([]byte(tt.trait))
				if err != nil {
					t.Fatal(err)
				}
				s.traits["x"] = v
			}
			if got := Evaluate(c, s, now).Value; got != tt.want {
				t.Errorf("trait %s %s = %v, want %v", tt.trait, tt.test, got, tt.want)
			}
		})
	}
}

// TestTraitPaths checks that a dotted name reads into an object trait, and
// that a trait named with the dots wins over the path.
func TestTraitPaths(t *testing.T) {
	s := &memSubject{traits: map[string]Value{
		"address":    Object(map[string]Value{"city": String("Delft"), "geo": Object(map[string]Value{"zip": String("2611")})}),
		"plan.tier":  String("gold"),
		"plan":       Object(map[string]Value{"tier": String("silver")}),
		"not_object": String("x"),
	}}
	tests := []struct {
		name string
		want Value
		ok   bool
	}{
		{"address.city", String("Delft"), true},
		{"address.geo.zip", String("2611"), true},
		{"address.country", Value{}, false},
		{"plan.tier", String("gold"), true},
		{"not_object.x", Value{}, false},
		{"missing.x", Value{}, false},
	}
	for _, tt := range tests {
		got, ok := traitValue(s, tt.name)
		if ok != tt.ok || (ok && got.s != tt.want.s) {
			t.Errorf("traitValue(%s) = %v, %v, want %v, %v", tt.name, got.Native(), ok, tt.want.Native(), tt.ok)
		}
	}
}
