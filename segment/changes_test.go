package segment

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mosaic-cdp/mosaic/store"
)

// TestChangeLog: changes come out in the order they went in, across
// blocks, after a failed save is put back and a profile dropped.
func TestChangeLog(t *testing.T) {
	tests := []struct {
		name          string
		added, before int // changes added, and put back before them
		drop          uint64
	}{
		{"empty", 0, 0, 0},
		{"one", 1, 0, 0},
		{"a block", changeBlock, 0, 0},
		{"blocks and a part", 2*changeBlock + 7, 0, 0},
		{"put back", 10, changeBlock + 3, 0},
		{"profile dropped", 3*changeBlock + 1, 5, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			change := func(i int) store.AudienceChange {
				return store.AudienceChange{ID: int64(i), ProfileID: uint64(i % 7)}
			}
			var l changeLog
			var want []store.AudienceChange
			var back []store.AudienceChange
			for i := range tt.before {
				back = append(back, change(-i-1))
			}
			for i := range tt.added {
				l.add(change(i))
			}
			want = append(want, back...)
			for i := range tt.added {
				want = append(want, change(i))
			}
			if len(back) > 0 {
				l.prepend(back)
			}
			if tt.drop != 0 {
				l.dropProfile(tt.drop)
				want = slices.DeleteFunc(want, func(c store.AudienceChange) bool { return c.ProfileID == tt.drop })
			}
			if l.len() != len(want) {
				t.Errorf("len() = %d, want %d", l.len(), len(want))
			}
			got := l.take()
			if !slices.Equal(got, want) {
				t.Errorf("take() gave %d changes, want %d in order", len(got), len(want))
			}
			if l.len() != 0 || l.take() != nil {
				t.Errorf("after take(): len() = %d, want an empty log", l.len())
			}
		})
	}
}

// TestWithProfiles: the profiles with a state and the profile stage's
// without one, once each, in ID order.
func TestWithProfiles(t *testing.T) {
	a, b := &pstate{}, &pstate{}
	tests := []struct {
		name string
		all  []profileState
		ids  []uint64
		want []profileState
	}{
		{"states only", []profileState{{1, a}, {5, b}}, nil, []profileState{{1, a}, {5, b}}},
		{"stage only", nil, []uint64{2, 3}, []profileState{{2, nil}, {3, nil}}},
		{"both, interleaved", []profileState{{2, a}, {9, b}}, []uint64{1, 2, 3, 10}, []profileState{{1, nil}, {2, a}, {3, nil}, {9, b}, {10, nil}}},
		{"stage IDs unsorted and repeated", []profileState{{4, a}}, []uint64{7, 4, 1, 7}, []profileState{{1, nil}, {4, a}, {7, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := withProfiles(tt.all, tt.ids); !slices.Equal(got, tt.want) {
				t.Errorf("withProfiles(%v, %v) = %v, want %v", tt.all, tt.ids, got, tt.want)
			}
		})
	}
}

// TestProfileList: whatever states are made and removed, byID gives every
// profile with a state, in ID order, with its state.
func TestProfileList(t *testing.T) {
	s := New(nil, nil, Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 20000 {
		id := uint64(rng.IntN(3000) + 1)
		switch op := rng.IntN(10); {
		case op < 6:
			s.state(id)
		case op < 7:
			if s.states[id] != nil {
				delete(s.states, id)
				s.removed()
			}
		case op < 8 || step == 19999:
			got := s.byID()
			want := s.collectStates()
			sortByID(want)
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: byID() has %d profiles, want %d in ID order with their states", step, len(got), len(want))
			}
		}
	}
}
