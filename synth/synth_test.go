package synth

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// generated is a small data set kept in memory for tests.
type generated struct {
	msgs   []Message // JSON copied
	people []Person
}

// generate runs a Generator for o to the end and keeps everything.
func generate(t testing.TB, o Options) generated {
	t.Helper()
	var out generated
	o.Truth = func(p Person) { out.people = append(out.people, p) }
	g := New(o)
	for {
		m, ok := g.NextMessage()
		if !ok {
			break
		}
		m.JSON = bytes.Clone(m.JSON)
		out.msgs = append(out.msgs, m)
	}
	return out
}

// small returns the default options for n people with seed.
func small(n int, seed int64) Options {
	o := DefaultOptions()
	o.People, o.Seed = n, seed
	return o
}

// digest hashes every message of o's stream, in order.
func digest(t *testing.T, o Options) [32]byte {
	t.Helper()
	h := sha256.New()
	for b := range New(o).All() {
		h.Write(b)
		h.Write([]byte{'\n'})
	}
	return [32]byte(h.Sum(nil))
}

func TestSameSeedSameBytes(t *testing.T) {
	a := digest(t, small(300, 7))
	if b := digest(t, small(300, 7)); a != b {
		t.Fatalf("two streams with seed 7 differ: %x and %x", a, b)
	}
	if c := digest(t, small(300, 8)); a == c {
		t.Errorf("streams with seeds 7 and 8 are identical (%x); the seed must matter", a)
	}
}

// The window changes the order messages arrive in, not the messages.
func TestWindowChangesOnlyOrder(t *testing.T) {
	sorted := func(o Options) []string {
		var out []string
		for b := range New(o).All() {
			out = append(out, string(b))
		}
		slices.Sort(out)
		return out
	}
	narrow, wide := small(200, 3), small(200, 3)
	narrow.Window, wide.Window = 1, 500
	a, b := sorted(narrow), sorted(wide)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("messages with Window 1 and 500 differ (-1 +500):\n%.2000s", diff)
	}
}

func TestTruthIsDeterministic(t *testing.T) {
	a, b := generate(t, small(200, 5)), generate(t, small(200, 5))
	if diff := cmp.Diff(a.people, b.people); diff != "" {
		t.Errorf("truth of two runs with one seed differs:\n%.2000s", diff)
	}
	for i, p := range a.people {
		if p.Index != i {
			t.Fatalf("Truth called with person %d in position %d; want index order", p.Index, i)
		}
	}
}

// segmentMessage holds the fields the Tracking API checks.
type segmentMessage struct {
	Type        string          `json:"type"`
	MessageID   string          `json:"messageId"`
	Timestamp   string          `json:"timestamp"`
	SentAt      string          `json:"sentAt"`
	UserID      *string         `json:"userId"`
	AnonymousID *string         `json:"anonymousId"`
	Event       string          `json:"event"`
	Name        string          `json:"name"`
	Traits      json.RawMessage `json:"traits"`
	Properties  json.RawMessage `json:"properties"`
	Context     json.RawMessage `json:"context"`
}

func TestMessagesAreValidSegment(t *testing.T) {
	d := generate(t, small(1000, 11))
	seen := map[string]bool{}
	for _, m := range d.msgs {
		var s segmentMessage
		if err := json.Unmarshal(m.JSON, &s); err != nil {
			t.Fatalf("message is not JSON: %v\n%s", err, m.JSON)
		}
		if err := checkSegment(s, m); err != nil {
			t.Fatalf("%v\n%s", err, m.JSON)
		}
		if seen[s.MessageID] {
			t.Fatalf("messageId %s appears twice", s.MessageID)
		}
		seen[s.MessageID] = true
	}
}

// checkSegment checks one message against the Segment spec's required
// fields and against what NextMessage said about it.
func checkSegment(s segmentMessage, m Message) error {
	var errs []error
	if s.Type != m.Type || s.MessageID != m.MessageID || len(s.MessageID) != 36 {
		errs = append(errs, errors.New("type/messageId do not match NextMessage's or messageId is no UUID"))
	}
	ts, err1 := time.Parse(time.RFC3339Nano, s.Timestamp)
	sent, err2 := time.Parse(time.RFC3339Nano, s.SentAt)
	if err1 != nil || err2 != nil || sent.Before(ts) {
		errs = append(errs, errors.New("timestamp and sentAt must be ISO-8601 with sentAt not before timestamp"))
	}
	if (s.UserID == nil || *s.UserID == "") && (s.AnonymousID == nil || *s.AnonymousID == "") {
		errs = append(errs, errors.New("neither userId nor anonymousId"))
	}
	switch s.Type {
	case "track":
		if s.Event == "" || s.Properties == nil {
			errs = append(errs, errors.New("track without event or properties"))
		}
	case "identify":
		if s.Traits == nil {
			errs = append(errs, errors.New("identify without traits"))
		}
	case "page", "screen":
		if s.Name == "" {
			errs = append(errs, errors.New("page or screen without name"))
		}
	default:
		errs = append(errs, errors.New("unknown type "+s.Type))
	}
	if len(s.Context) == 0 || s.Context[0] != '{' {
		errs = append(errs, errors.New("no context object"))
	}
	return errors.Join(errs...)
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Options)
		valid bool
	}{
		{"defaults", func(*Options) {}, true},
		{"zero structural fields take defaults", func(o *Options) { *o = Options{People: 5} }, true},
		{"no people", func(o *Options) { o.People = 0 }, true},
		{"negative people", func(o *Options) { o.People = -1 }, false},
		{"too many people", func(o *Options) { o.People = MaxPeople + 1 }, false},
		{"fewer than one event", func(o *Options) { o.EventsPerPerson = 0.5 }, false},
		{"rate above one", func(o *Options) { o.JunkRate = 1.5 }, false},
		{"negative rate", func(o *Options) { o.LateRate = -0.1 }, false},
		{"unknown region", func(o *Options) { o.Region = "FR" }, false},
		{"negative window", func(o *Options) { o.Window = -3 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			tt.edit(&o)
			err := o.Validate()
			if (err == nil) != tt.valid {
				t.Fatalf("Validate() = %v, want valid %v", err, tt.valid)
			}
			if err != nil && !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("Validate() = %v, want it to wrap ErrInvalidOptions", err)
			}
		})
	}
}

func TestNewPanicsOnInvalidOptions(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Errorf("New(Region FR) did not panic")
		}
	}()
	New(Options{Region: "FR"})
}

func TestNoPeopleNoMessages(t *testing.T) {
	g := New(Options{People: 0})
	if b, ok := g.Next(); ok {
		t.Errorf("Next() with no people = %s, true; want nothing", b)
	}
}

// TestNextIDsMatchesMessages checks that skipping messages with NextIDs
// names the same people, in the same order, as writing them.
func TestNextIDsMatchesMessages(t *testing.T) {
	o := DefaultOptions()
	o.People, o.Seed = 500, 3
	written, skipped := New(o), New(o)
	var n, users, anons int
	for b := range written.All() {
		var want struct {
			UserID      string `json:"userId"`
			AnonymousID string `json:"anonymousId"`
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		user, anon, ok := skipped.NextIDs()
		if !ok {
			t.Fatalf("NextIDs ended after %d messages; Next goes on", n)
		}
		if user != want.UserID || anon != want.AnonymousID {
			t.Fatalf("message %d: NextIDs = %q, %q; the message has %q, %q", n, user, anon, want.UserID, want.AnonymousID)
		}
		n++
		if user != "" {
			users++
		}
		if anon != "" {
			anons++
		}
	}
	if _, _, ok := skipped.NextIDs(); ok {
		t.Fatalf("NextIDs goes on after the %d messages Next wrote", n)
	}
	if users == 0 || anons == 0 {
		t.Fatalf("%d messages with a userId, %d with an anonymousId: the test saw no identifiers", users, anons)
	}
}
