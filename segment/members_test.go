package segment

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestMembersPaging holds the ordered paging of members to a sort of the
// member set, through random entries, exits and erasures between and
// within walks, with orders made, kept up and dropped as stale.
func TestMembersPaging(t *testing.T) {
	for _, tc := range []struct {
		name            string
		ids, ops, pages int
	}{
		{"few members, busy", 50, 20_000, 7},
		{"many members, orders kept", 20_000, 4_000, 500},
		{"many members, orders dropped", 9_000, 40_000, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.ids), uint64(tc.ops)))
			s := New(nil, nil, Options{})
			s.slotIDs = append(s.slotIDs, "a", "b")
			for i, id := range []string{"a", "b"} {
				a := &Audience{ID: id, Key: id, slot: int32(i + 1)}
				s.audiences[id], s.audByKey[id] = a, a
			}
			// want is the truth: the members of each audience.
			want := map[string]map[uint64]bool{"a": {}, "b": {}}
			check := func(aud string, after uint64, limit int) []Member {
				t.Helper()
				got, total, err := s.Members(aud, after, limit)
				if err != nil {
					t.Fatal(err)
				}
				var exp []uint64
				for _, id := range slices.Sorted(maps.Keys(want[aud])) {
					if id > after && len(exp) < limit {
						exp = append(exp, id)
					}
				}
				ids := make([]uint64, len(got))
				for i, m := range got {
					ids[i] = m.ProfileID
				}
				if !slices.Equal(ids, exp) || total != len(want[aud]) {
					t.Fatalf("Members(%s, %d, %d) = %v (total %d), want %v (total %d)", aud, after, limit, ids, total, exp, len(want[aud]))
				}
				return got
			}
			walks := map[string]uint64{} // where each audience's walk is
			for range tc.ops {
				id := uint64(rng.IntN(tc.ids)+1) << 8
				aud := []string{"a", "b"}[rng.IntN(2)]
				slot := s.audiences[aud].slot
				switch r := rng.IntN(100); {
				case r < 55: // enter
					if !want[aud][id] {
						s.setMember(id, s.state(id), slot, true, t0, cause{Kind: "event"})
						want[aud][id] = true
					}
				case r < 97: // exit
					if want[aud][id] {
						s.setMember(id, s.state(id), slot, false, t0, cause{Kind: "event"})
						delete(want[aud], id)
					}
				case r < 98: // erasure: out of every audience, no exit recorded
					s.forget(id)
					delete(want["a"], id)
					delete(want["b"], id)
				default: // the next page of a walk
					limit := max(1, len(want[aud])/tc.pages)
					got := check(aud, walks[aud], limit)
					if len(got) < limit {
						walks[aud] = 0
					} else {
						walks[aud] = got[len(got)-1].ProfileID
					}
				}
			}
			for _, aud := range []string{"a", "b"} {
				check(aud, 0, tc.ids)
			}
		})
	}
}
