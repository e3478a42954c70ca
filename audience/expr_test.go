package audience

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestExpr evaluates CEL leaves, including their failures.
func TestExpr(t *testing.T) {
	var nums []string
	for i := range 100 {
		nums = append(nums, strconv.Itoa(i+1))
	}
	hundred := "[" + strings.Join(nums, ",") + "]"
	s := &memSubject{
		traits:   map[string]Value{"plan": String("pro"), "age": Number(41), "tags": List(String("a"), String("b")), "address": Object(map[string]Value{"city": String("Delft")})},
		computed: map[string]Value{"ltv": Number(1200.5)},
	}
	tests := []struct {
		src     string
		want    bool
		wantErr string // in the explanation
	}{
		{`traits.plan == "pro"`, true, ""},
		{`traits.age > 40`, true, ""},
		{`traits.age >= 40.5 && computed.ltv > 1000`, true, ""},
		{`"b" in traits.tags && size(traits.tags) == 2`, true, ""},
		{`traits.address.city.startsWith("Del")`, true, ""},
		{`has(traits.missing)`, false, ""},
		{`!has(traits.missing) || traits.missing == 1`, true, ""},
		{`traits.missing == 1`, false, "no such key: missing"},
		{`traits.plan + 1 == 2`, false, "no such overload"},
		{`traits["plan"] == "pro"`, true, ""},
		{`traits.tags.all(t, t.size() == 1)`, true, ""},
		// Quadratic work on a small list stays under the cost limit; the
		// same on a long one does not.
		{`[1,2,3].all(x, [1,2,3].exists(y, y == x))`, true, ""},
		{hundred + `.all(x, ` + hundred + `.all(y, x + y > 0))`, false, "cost limit"},
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.src[:min(len(tt.src), 40)], func(t *testing.T) {
			c, err := Decode([]byte(`{"expr": ` + string(appendQuoted(nil, tt.src)) + `}`))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			r := Explain(c, s, now)
			if r.Value != tt.want || !r.NextChange.IsZero() {
				t.Errorf("expr %s = %v next %v, want %v never", tt.src, r.Value, r.NextChange, tt.want)
			}
			if got := r.Explain.Error; !strings.Contains(got, tt.wantErr) || (tt.wantErr == "") != (got == "") {
				t.Errorf("expr %s: explanation error %q, want one containing %q", tt.src, got, tt.wantErr)
			}
		})
	}
}

// TestExprUnchecked evaluates an expression node built in Go and never
// validated: it is compiled on the spot.
func TestExprUnchecked(t *testing.T) {
	c := &Condition{Kind: KindExpr, Expr: `traits.plan == "pro"`}
	s := &memSubject{traits: map[string]Value{"plan": String("pro")}}
	if r := Evaluate(c, s, time.Now()); !r.Value {
		t.Errorf("Evaluate(unchecked expr) = false, want true")
	}
}
