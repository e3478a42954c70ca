package live

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/mosaic-cdp/mosaic/predict"
)

// history is what the predictions read of one profile: its orders and its
// other activity, each sorted by time. The slices are never changed in
// place once a fit may read them: Observe only appends, and builds new
// slices for an insertion out of order, a merge or a trim, so a fit can
// read a snapshot of the slice headers without holding the lock.
//
// ordersGen and actsGen let Observe skip that copy: each is the observer's
// count of snapshots when it last made the slice's array. While the count
// is unchanged no fit can hold the array, and an insertion may shift its
// elements in place.
type history struct {
	orders             []order
	acts               []act
	ordersGen, actsGen uint64
	// dirty says the history changed since the observer's last checkpoint
	// (see Observer.dirty); meaningless in a snapshot's copy.
	dirty bool
}

// order is one order event.
type order struct {
	t        int64 // event time, µs since the epoch
	revenue  float64
	products []string
}

// act is one activity other than an order.
type act struct {
	t       int64 // event time, µs since the epoch
	kind    kind
	channel channel
	hour    uint8 // hour of the week in the customer's time zone (predict.HourOfWeek)
}

// kind is what an activity was.
type kind uint8

const (
	kindPageView    kind = iota + 1 // a page or screen call
	kindProductView                 // "Product Viewed"
	kindSent                        // a message delivered on a channel
	kindOpened                      // a message opened (engagement)
	kindClicked                     // a message's link clicked (engagement)
)

// engaged reports whether the activity is an engagement with a message.
func (k kind) engaged() bool { return k == kindOpened || k == kindClicked }

// channel is a messaging channel. The numbers are stored: never reuse one.
type channel uint8

const (
	chNone channel = iota
	chEmail
	chSMS
	chPush
	chInApp
	chWhatsApp
)

var channelNames = [...]string{chNone: "", chEmail: "email", chSMS: "sms", chPush: "push", chInApp: "in_app", chWhatsApp: "whatsapp"}

func (c channel) String() string {
	if int(c) < len(channelNames) {
		return channelNames[c]
	}
	return "unknown"
}

// insertOrder adds o in time order. gen is the observer's count of
// snapshots (see Observer.handedOut).
func (h *history) insertOrder(o order, limit int, gen uint64) {
	var fresh bool
	h.orders, fresh = insertSorted(h.orders, o, func(o order) int64 { return o.t }, h.ordersGen == gen)
	if len(h.orders) > limit {
		h.orders, fresh = slices.Clone(h.orders[len(h.orders)-limit:]), true
	}
	if fresh {
		h.ordersGen = gen
	}
}

// insertAct adds a in time order; gen as for insertOrder.
func (h *history) insertAct(a act, limit int, gen uint64) {
	var fresh bool
	h.acts, fresh = insertSorted(h.acts, a, func(a act) int64 { return a.t }, h.actsGen == gen)
	if len(h.acts) > limit {
		h.acts, fresh = slices.Clone(h.acts[len(h.acts)-limit:]), true
	}
	if fresh {
		h.actsGen = gen
	}
}

// insertSorted appends v, or inserts v older than the last element in its
// place: in s's own array when owned (no snapshot can hold s), else in a
// new slice (see history), reporting that it made one. Events of a
// profile often arrive a little out of order, and copying the whole
// slice for each was most of the cost of keeping them.
func insertSorted[T any](s []T, v T, at func(T) int64, owned bool) ([]T, bool) {
	n := len(s)
	if n == 0 || at(s[n-1]) <= at(v) {
		return append(s, v), false
	}
	i, _ := slices.BinarySearchFunc(s, at(v), func(e T, t int64) int { return cmp.Compare(at(e), t+1) })
	if owned {
		s = append(s, v)
		copy(s[i+1:], s[i:n])
		s[i] = v
		return s, false
	}
	out := make([]T, 0, n+1)
	out = append(append(append(out, s[:i]...), v), s[i:]...)
	return out, true
}

// merge returns the union of h and o, sorted, in new slices.
func merge(h, o history, maxOrders, maxActs int) history {
	orders := append(slices.Clone(h.orders), o.orders...)
	slices.SortStableFunc(orders, func(a, b order) int { return cmp.Compare(a.t, b.t) })
	acts := append(slices.Clone(h.acts), o.acts...)
	slices.SortStableFunc(acts, func(a, b act) int { return cmp.Compare(a.t, b.t) })
	return history{orders: orders[max(0, len(orders)-maxOrders):], acts: acts[max(0, len(acts)-maxActs):]}
}

// historyFormat versions the binary form of a history.
const historyFormat = 1

// appendBinary encodes h: a format byte; the number of orders, then each
// as time (varint µs, delta from the previous), revenue (8 bytes) and its
// products (count, then length-prefixed names); the number of activities,
// then each as time (varint delta), kind, channel and hour (one byte each).
func (h *history) appendBinary(b []byte) []byte {
	b = append(b, historyFormat)
	b = binary.AppendUvarint(b, uint64(len(h.orders)))
	var prev int64
	for _, o := range h.orders {
		b = binary.AppendVarint(b, o.t-prev)
		prev = o.t
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(o.revenue))
		b = binary.AppendUvarint(b, uint64(len(o.products)))
		for _, p := range o.products {
			b = binary.AppendUvarint(b, uint64(len(p)))
			b = append(b, p...)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(h.acts)))
	prev = 0
	for _, a := range h.acts {
		b = binary.AppendVarint(b, a.t-prev)
		prev = a.t
		b = append(b, byte(a.kind), byte(a.channel), a.hour)
	}
	return b
}

var errCorrupt = errors.New("corrupt prediction activity")

// decodeHistory decodes what appendBinary wrote; intern shares product
// names between profiles.
func decodeHistory(b []byte, intern func(string) string) (history, error) {
	d := decoder{b: b}
	if d.byte() != historyFormat {
		return history{}, errCorrupt
	}
	var h history
	n := d.count()
	h.orders = make([]order, 0, n)
	var t int64
	for range n {
		t += d.varint()
		o := order{t: t, revenue: math.Float64frombits(d.uint64())}
		for range d.count() {
			o.products = append(o.products, intern(string(d.bytes(d.count()))))
		}
		h.orders = append(h.orders, o)
	}
	n, t = d.count(), 0
	h.acts = make([]act, 0, n)
	for range n {
		t += d.varint()
		h.acts = append(h.acts, act{t: t, kind: kind(d.byte()), channel: channel(d.byte()), hour: d.byte()})
	}
	if d.err != nil || len(d.b) != 0 {
		return history{}, errCorrupt
	}
	return h, nil
}

// decoder reads a history's encoding; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() { d.err, d.b = errCorrupt, nil }

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length, bounded by what is left so corrupt input cannot
// make a huge allocation.
func (d *decoder) count() int {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *decoder) bytes(n int) []byte {
	if len(d.b) < n {
		d.fail()
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// orderValues returns h's orders up to asOf as the models read them.
func (h *history) orderValues(asOf int64) []predict.Order {
	out := make([]predict.Order, 0, len(h.orders))
	for _, o := range h.orders {
		if o.t > asOf {
			break
		}
		out = append(out, predict.Order{Time: time.UnixMicro(o.t).UTC(), Revenue: o.revenue, Products: o.products})
	}
	return out
}
