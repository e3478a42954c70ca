package live

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// parseOrderReference is parseOrder as it was, decoding the properties
// into a map for the revenue. parseOrder must give what it gives.
func (o *Observer) parseOrderReference(raw json.RawMessage, t time.Time) *order {
	ord := &order{t: t.UnixMicro()}
	var props map[string]json.RawMessage
	if json.Unmarshal(raw, &props) != nil {
		return ord
	}
	ord.revenue = number(props[o.opts.RevenueProperty])
	var p orderProps
	_ = json.Unmarshal(raw, &p)
	if p.ProductID != "" {
		ord.products = append(ord.products, o.intern(p.ProductID))
	}
	for _, item := range p.Products {
		if id := cmpOr(item.ProductID, item.SKU, item.ID, item.Name); id != "" {
			ord.products = append(ord.products, o.intern(id))
		}
	}
	return ord
}

// oddOrders are order properties where reading the revenue in place and
// decoding the properties into a map may part.
var oddOrders = []string{
	`{"revenue":42.5,"products":[{"product_id":"a"},{"product_id":"b"}]}`,
	`{"revenue":"12.50","product_id":"c"}`,
	`{"revenue":" 7 "}`,
	`{"revenue":1,"revenue":2}`,
	`{"revenue":1,"revenue":null}`,
	`{"Revenue":3}`,
	`{"REVENUE":3,"revenue":4,"Revenue":5}`,
	`{"rev\u0065nue":6}`,
	`{"revenue\u0000":6}`,
	"{\"revenue\xff\":6}",
	"{\"revenue\":6,\"\xffrevenue\":7}",
	`{"revenue":1e400}`,
	`{"revenue":-0.5e2}`,
	`{"revenue":true}`,
	`{"revenue":{"amount":3}}`,
	`{"revenue":[3]}`,
	`{"revenue":3,"products":"none"}`,
	`{"revenue":3,"products":[1,{"sku":"x"},null,{"product_id":2,"name":" n "}]}`,
	`{"revenue":3,"product_id":5}`,
	`{"revenue":3,"PRODUCTS":[{"ID":"y"}]}`,
	` { "revenue" : 8 } `,
	`{}`,
	`null`,
	` null `,
	`[]`,
	`[{"revenue":3}]`,
	`"revenue"`,
	`12`,
	`true`,
	``,
	` `,
	`{"revenue":3`,
	`{"revenue":3}}`,
	`{"revenue":3} x`,
	`{"revenue":"\u0031\u0032"}`,
	`{"revenue":"12","products":[{"product_id":"a"}],"revenue":"x"}`,
}

// TestParseOrderMatchesReference holds parseOrder, which reads the
// revenue in place, to decoding the properties into a map, with the
// default revenue property and an escaped, unusual one.
func TestParseOrderMatchesReference(t *testing.T) {
	for _, prop := range []string{"", "Revenue", "revenue\x00", "total value"} {
		o := NewObserver(nil, ObserverOptions{RevenueProperty: prop})
		for _, s := range append(oddOrders, `{"total value":9,"Total Value":10}`, `{"total\u0020value":11}`) {
			checkOrder(t, o, []byte(s))
		}
	}
}

func checkOrder(t *testing.T, o *Observer, raw []byte) {
	t.Helper()
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	got, want := o.parseOrder(raw, at), o.parseOrderReference(raw, at)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseOrder(%q) = %+v, want %+v (revenue property %q)", raw, *got, *want, o.opts.RevenueProperty)
	}
}

// FuzzParseOrder holds parseOrder to parseOrderReference on any
// properties.
func FuzzParseOrder(f *testing.F) {
	for _, s := range oddOrders {
		f.Add([]byte(s))
	}
	o := NewObserver(nil, ObserverOptions{})
	f.Fuzz(func(t *testing.T, raw []byte) { checkOrder(t, o, raw) })
}
