package profile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAppendFoldedRegsMatchesAppendRegs folds random writes of one event
// into random register sets and holds appendFoldedRegs to the canonical
// encoding appendRegs makes of the same registers.
func TestAppendFoldedRegsMatchesAppendRegs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	names := []string{"email", "first_name", "last_browser", "last_os", "last_device_type", "plan", "zz"}
	sources := []string{"", "src-web", "src-app"}
	var table []stamp
	var index []int
	for round := range 20000 {
		// Few distinct times and seqs, so that stamps repeat and the
		// event's stamp often equals one already held.
		randStamp := func() stamp {
			return stamp{time: int64(rng.IntN(4)), seq: uint64(rng.IntN(4)), src: refString(sources[rng.IntN(len(sources))])}
		}
		var held []reg
		for _, n := range names {
			if rng.IntN(2) == 0 {
				s := randStamp()
				held = append(held, reg{name: refString(n), time: s.time, seq: s.seq, src: s.src, value: fmt.Appendf(nil, "%d", rng.IntN(3))})
			}
		}
		slices.SortFunc(held, func(a, b reg) int { return compareRef(a.name, b.name) })
		enc, _ := appendRegs(nil, held, nil)
		cur, old, err := readRegs(enc, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := randStamp()
		var ws []reg
		for _, n := range names {
			if rng.IntN(3) == 0 {
				ws = append(ws, reg{name: refString(n), time: s.time, seq: s.seq, src: s.src, value: fmt.Appendf(nil, "%d", rng.IntN(3))})
			}
		}
		merged := mergeRegs(nil, cur, ws)
		want, _ := appendRegs(nil, merged, nil)
		var got []byte
		got, table, index = appendFoldedRegs(nil, slices.Clone(merged), old, s, table, index)
		if !bytes.Equal(got, want) {
			t.Fatalf("round %d: folded encoding\n%x\nwant\n%x", round, got, want)
		}
	}
}

// TestAppendFoldedRegsUnsortedTable shows that a stamp table not in
// appendRegs' order still gets the canonical encoding.
func TestAppendFoldedRegsUnsortedTable(t *testing.T) {
	old := []stamp{{time: 5, seq: 1}, {time: 2, seq: 1}}
	regs := []reg{
		{name: refString("a"), time: 5, seq: 1, stamp: 0, value: []byte("1")},
		{name: refString("b"), time: 2, seq: 1, stamp: 1, value: []byte("2")},
		{name: refString("c"), time: 9, seq: 3, value: []byte("3")},
	}
	want, _ := appendRegs(nil, regs, nil)
	got, _, _ := appendFoldedRegs(nil, regs, old, stamp{time: 9, seq: 3}, nil, nil)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
}
