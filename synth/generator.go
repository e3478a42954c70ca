package synth

import (
	"iter"
	"math"
	"math/rand/v2"
	"time"
)

// Generator produces the messages of Options.People journeys in arrival
// order. It plans a person's whole journey when the person enters the
// stream and forgets it when their last message has been returned; at
// most Options.Window people (a household counts two) are in the stream
// at once, so memory does not grow with People.
//
// People enter in order of the time their journey starts; their messages
// interleave by arrival time with those of the others in the window. A
// journey can last days, so when a person enters, the messages of the
// people already in the window may be days later than theirs: the
// stream's timestamps are ordered within the window, not overall.
//
// A Generator is not safe for concurrent use.
type Generator struct {
	opts   Options
	salts  salts
	espace uint64
	rng    *rand.Rand // people's start times and households
	next   int        // index of the next person to enter
	u      float64    // the last start, as a fraction of the period
	start  int64      // Unix milliseconds
	end    int64
	pair   float64 // chance that a new person starts a household
	window streams
	r      *renderer
	buf    []byte
}

// Message is one generated message with what a sender needs to know.
type Message struct {
	JSON      []byte // valid until the next call of Next or NextMessage
	Type      string // Segment call type: identify, track, page or screen
	MessageID string
	// Arrival is when the message reaches the collector in the simulated
	// world: its sentAt, unless the device's clock is off.
	Arrival time.Time
}

// New returns a Generator for opts, with zero structural fields set to
// their defaults (see Options). It panics if opts do not Validate:
// options are checked once, where they are read.
func New(opts Options) *Generator {
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	o := opts.withDefaults()
	s := uint64(o.Seed)
	start := o.Start.UnixMilli()
	r := o.SharedDeviceRate
	return &Generator{
		opts:   o,
		salts:  newSalts(o.Seed),
		espace: emailSpace(o.People),
		rng:    rand.New(rand.NewPCG(mix(s^0x51ed), mix(s^0xc0ffee))),
		start:  start,
		end:    start + int64(o.Days)*24*3600_000,
		// A share r of people in pairs needs pairs started at r/(2-r).
		pair: r / (2 - r),
		r:    newRenderer(),
	}
}

// Next returns the next message as JSON, valid until the next call, and
// false when every journey has been returned.
func (g *Generator) Next() ([]byte, bool) {
	s, ok := g.advance()
	if !ok {
		return nil, false
	}
	return g.emit(s), true
}

// NextMessage is Next with the message's type, id and arrival time.
func (g *Generator) NextMessage() (Message, bool) {
	s, ok := g.advance()
	if !ok {
		return Message{}, false
	}
	ev := &s.p.events[s.pos]
	arrival := time.UnixMilli(ev.arrival).UTC()
	typ := s.p.messageType(ev)
	b := g.emit(s)
	// The messageId is the second member: {"type":"T","messageId":"…".
	at := len(`{"type":"","messageId":"`) + len(typ)
	return Message{JSON: b, Type: typ, MessageID: string(b[at : at+36]), Arrival: arrival}, true
}

// All returns an iterator over the remaining messages, as Next returns
// them.
func (g *Generator) All() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for {
			b, ok := g.Next()
			if !ok || !yield(b) {
				return
			}
		}
	}
}

// advance fills the window and returns the stream whose message arrives
// first.
func (g *Generator) advance() (*stream, bool) {
	for len(g.window) < g.opts.Window && g.next < g.opts.People {
		g.enter()
	}
	if len(g.window) == 0 {
		return nil, false
	}
	return g.window[0], true
}

// NextIDs moves past the next message without writing it and returns the
// userId and anonymousId it carries ("" where it has none), and false when
// every journey has been returned. Readers that only need to know whom the
// journeys name (to look them up) skip the cost of writing each message.
func (g *Generator) NextIDs() (userID, anonymousID string, ok bool) {
	s, ok := g.advance()
	if !ok {
		return "", "", false
	}
	ev := &s.p.events[s.pos]
	ids := s.p.ids(ev)
	userID = ids.userID
	if userID == "" && ev.junkUser >= 0 {
		userID = junkUserIDs[ev.junkUser]
	}
	g.pass(s)
	return userID, ids.anonID, true
}

// emit renders the first message of s, then moves s on.
func (g *Generator) emit(s *stream) []byte {
	g.buf, _ = g.r.render(g.buf[:0], s.p, &s.p.events[s.pos])
	g.pass(s)
	return g.buf
}

// pass moves s on to its next message.
func (g *Generator) pass(s *stream) {
	s.pos++
	if s.pos == len(s.p.events) {
		g.window.pop()
	} else {
		g.window.down(0)
	}
}

// enter plans the next person, or the next two if they form a household
// sharing a device, and puts them in the window.
func (g *Generator) enter() {
	a := g.newPerson()
	if g.next < g.opts.People && g.rng.Float64() < g.pair {
		b := g.newPerson()
		a.partner, b.partner = b.idx, a.idx
		hh := uint64(g.opts.Seed) ^ uint64(a.idx)<<20
		d := sharedDevice(rand.New(rand.NewPCG(mix(hh^0xfa), mix(hh^0x11))))
		a.devices, b.devices = append(a.devices, d), append(b.devices, d)
		g.plan(a)
		g.plan(b)
		return
	}
	g.plan(a)
}

// newPerson makes the next person and draws their start time.
func (g *Generator) newPerson() *person {
	p := newPerson(g.next, &g.opts, g.salts, g.espace)
	g.u = nextStart(g.rng, g.u, g.opts.People-g.next)
	p.start = g.start + int64(g.u*float64(g.end-g.start))
	g.next++
	return p
}

// plan plans p's journey, reports its truth and puts it in the window.
func (g *Generator) plan(p *person) {
	p.plan(p.start, g.end)
	if g.opts.Truth != nil {
		g.opts.Truth(p.truth())
	}
	if len(p.events) > 0 {
		g.window.push(&stream{p: p})
	}
}

// nextStart returns the next of n remaining sorted uniform values after
// u: the minimum of n uniforms on (u, 1). Drawing them one by one gives
// people in order of their start without sorting them all.
func nextStart(rng *rand.Rand, u float64, n int) float64 {
	return u + (1-u)*(1-math.Pow(rng.Float64(), 1/float64(n)))
}

// stream is a person in the window and the position of their next message.
type stream struct {
	p   *person
	pos int
}

// streams is a min-heap of streams by the arrival of their next message,
// then person index, so ties break the same way every time.
type streams []*stream

func (h streams) less(i, j int) bool {
	a, b := h[i].p.events[h[i].pos].arrival, h[j].p.events[h[j].pos].arrival
	return a < b || a == b && h[i].p.idx < h[j].p.idx
}

func (h *streams) push(s *stream) {
	*h = append(*h, s)
	for i := len(*h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		(*h)[i], (*h)[parent] = (*h)[parent], (*h)[i]
		i = parent
	}
}

// pop removes the first stream.
func (h *streams) pop() {
	old := *h
	n := len(old) - 1
	old[0] = old[n]
	old[n] = nil
	*h = old[:n]
	if n > 0 {
		h.down(0)
	}
}

// down restores the heap after the stream at i moved later.
func (h streams) down(i int) {
	for {
		l, small := 2*i+1, i
		if l < len(h) && h.less(l, small) {
			small = l
		}
		if r := l + 1; r < len(h) && h.less(r, small) {
			small = r
		}
		if small == i {
			return
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
}
