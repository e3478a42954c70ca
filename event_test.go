package mosaic

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEventBinaryRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
	}{
		{"typical", Event{SourceID: "src-1", MessageID: "m-1", Type: TypeTrack,
			ReceivedAt: time.Date(2026, 11, 22, 19, 0, 0, 123456789, time.UTC), Message: []byte(`{"type":"track"}`)}},
		{"empty fields", Event{ReceivedAt: time.Unix(0, 0).UTC()}},
		{"before 1970", Event{SourceID: "s", ReceivedAt: time.Date(1901, 1, 1, 0, 0, 0, 0, time.UTC), Message: []byte("{}")}},
		{"unicode and NUL", Event{SourceID: "ß\x00", MessageID: "✓", Type: "page", ReceivedAt: time.Unix(1, 0).UTC(), Message: []byte{0, 1, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.ev.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got Event
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary: %v", err)
			}
			if got.Message == nil {
				got.Message = []byte{}
			}
			if tt.ev.Message == nil {
				tt.ev.Message = []byte{}
			}
			if diff := cmp.Diff(tt.ev, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEventUnmarshalCorrupt(t *testing.T) {
	good, _ := (&Event{SourceID: "src", MessageID: "m", Type: "track", Message: []byte("{}")}).MarshalBinary()
	tests := map[string][]byte{
		"empty":         nil,
		"wrong version": append([]byte{9}, good[1:]...),
		"truncated":     good[:5],
		"huge length":   {eventFormat, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"no time":       good[:1+1+3+1+1+1+5],
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			var e Event
			if err := e.UnmarshalBinary(data); !errors.Is(err, ErrCorruptEvent) {
				t.Errorf("UnmarshalBinary(%x) = %v, want ErrCorruptEvent", data, err)
			}
		})
	}
}

func FuzzEventUnmarshal(f *testing.F) {
	good, _ := (&Event{SourceID: "src", MessageID: "m", Type: "track", Message: []byte("{}")}).MarshalBinary()
	f.Add(good)
	f.Add([]byte{eventFormat})
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Event
		if err := e.UnmarshalBinary(data); err != nil {
			return
		}
		again, err := e.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var e2 Event
		if err := e2.UnmarshalBinary(again); err != nil || e2.SourceID != e.SourceID || string(e2.Message) != string(e.Message) {
			t.Fatalf("re-encoding %x does not round trip", data)
		}
	})
}

func TestErrorCodeAndMessage(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		code     string
		internal bool
	}{
		{"nil", nil, "", false},
		{"mosaic error", Errorf(ENOTFOUND, "no source %q", "x"), ENOTFOUND, false},
		{"wrapped", errors.Join(errors.New("ctx"), Errorf(ECONFLICT, "taken")), ECONFLICT, false},
		{"plain", errors.New("disk on fire at /secret/path"), EINTERNAL, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
			msg := ErrorMessage(tt.err)
			if tt.internal && (msg == "" || msg == tt.err.Error()) {
				t.Errorf("ErrorMessage(internal) = %q, want a generic message", msg)
			}
		})
	}
}
