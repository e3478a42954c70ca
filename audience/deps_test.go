package audience

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDependencies checks what each kind of node reports reading.
func TestDependencies(t *testing.T) {
	tests := []struct {
		name, src string
		want      Deps
	}{
		{"issue example", `trait country = "NL" and count(event "Order Completed" where revenue > 10 within 30d) >= 2 and consent marketing and not in audience "vip"`,
			Deps{Traits: []string{"country"}, Events: []string{"Order Completed"}, Consent: []string{"marketing"}, Audiences: []string{"vip"}, Timed: true}},
		{"all-time events are not timed", `count(event Signup) >= 1 or sum(revenue of event "Order Completed") > 10`,
			Deps{Events: []string{"Order Completed", "Signup"}}},
		{"dotted trait lists its root", `trait address.city = "Delft" and trait address.country = "NL"`,
			Deps{Traits: []string{"address", "address.city", "address.country"}}},
		{"birthday", `birthday within 7d`, Deps{Traits: []string{"birthday"}, Timed: true}},
		{"anniversary of a computed trait", `computed first_order_at anniversary_within 30d`, Deps{Computed: []string{"first_order_at"}, Timed: true}},
		{"near", `near(52.37, 4.9) within 25km`, Deps{Traits: []string{"address", "address.latitude", "address.longitude", "latitude", "longitude"}}},
		{"expr names", "expr `traits.plan == \"pro\" && has(traits.vip) && computed[\"ltv\"] > 10.0`",
			Deps{Traits: []string{"plan", "vip"}, Computed: []string{"ltv"}}},
		{"duplicates once", `consent a and consent a and computed x > 1 and computed x < 9`,
			Deps{Computed: []string{"x"}, Consent: []string{"a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, Dependencies(c), cmp.Options{cmpEmpty}); diff != "" {
				t.Errorf("Dependencies(%s) (-want +got):\n%s", tt.src, diff)
			}
		})
	}
	if !Has([]string{"a", "c"}, "c") || Has([]string{"a", "c"}, "b") {
		t.Errorf("Has does not find exactly the listed names")
	}
}

var cmpEmpty = cmp.FilterValues(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())
