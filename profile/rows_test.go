package profile

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"
)

// rowOp is one step on a rowLog: add a row to a chain, drop a chain, read
// a chain, take the rows, or take them and hand the previous batch back.
type rowOp struct {
	kind  byte // 'a' add, 'd' drop, 'c' chain, 't' take, 'r' take, then reuse the batch before
	chain int
}

// runRowLogs applies ops to a rowLog and to the old one and reports the
// first difference in what they return. Batches not handed back must stay
// as they were taken: the engine still reads them.
func runRowLogs(t tb, chains int, ops []rowOp) {
	t.Helper()
	var l rowLog[TimelineEntry]
	var old oldRowLog[TimelineEntry]
	last, oldLast := make([]int32, chains), make([]int32, chains)
	type held struct{ got, want []TimelineEntry }
	var kept []held // batches taken and not handed back, with their rows as taken
	var prev []TimelineEntry
	for step, op := range ops {
		where := fmt.Sprintf("step %d (%c %d)", step, op.kind, op.chain)
		switch op.kind {
		case 'a':
			row := TimelineEntry{ProfileID: uint64(op.chain), Seq: uint64(step), Type: "track", Name: fmt.Sprint("e", step)}
			last[op.chain] = l.add(last[op.chain], row)
			oldLast[op.chain] = old.add(oldLast[op.chain], row)
		case 'd':
			got, want := l.drop(last[op.chain]), old.drop(oldLast[op.chain])
			last[op.chain], oldLast[op.chain] = 0, 0
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Fatalf("%s: drop mismatch (-old +new):\n%s", where, diff)
			}
		case 'c':
			if diff := gocmp.Diff(old.chain(oldLast[op.chain]), l.chain(last[op.chain])); diff != "" {
				t.Fatalf("%s: chain mismatch (-old +new):\n%s", where, diff)
			}
		case 't', 'r':
			if op.kind == 'r' && prev != nil {
				l.reuse(prev)
				kept = kept[:len(kept)-1]
			}
			got, want := l.take(), old.take()
			clear(last)
			clear(oldLast)
			// An empty batch may be nil or not: both write nothing.
			if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("%s: take mismatch (-old +new):\n%s", where, diff)
			}
			if tail := got[len(got):cap(got)]; slices.ContainsFunc(tail, func(e TimelineEntry) bool { return e != TimelineEntry{} }) {
				t.Fatalf("%s: take left rows past the batch's length: they would keep what they refer to", where)
			}
			prev = got
			kept = append(kept, held{got, slices.Clone(got)})
		}
		for i, h := range kept {
			if diff := gocmp.Diff(h.want, h.got); diff != "" {
				t.Fatalf("%s: batch %d changed after take, while not handed back (-taken +now):\n%s", where, i, diff)
			}
		}
	}
}

func TestRowLogMatchesOld(t *testing.T) {
	tests := []struct {
		name string
		ops  string // pairs of kind and chain
	}{
		{"empty take", "t0t0"},
		{"adds in order", "a0a1a0t0"},
		{"drop in the middle", "a0a1a0a1a2d1c0t0"},
		{"drop everything", "a0a1d0d1t0"},
		{"reuse a larger batch for a smaller one", "a0a1a0a1a0t0a1a1a1r0a0r0"},
		{"reuse a smaller batch for a larger one", "a0t0a0a0a1a1r0a1r0"},
		{"reuse after drops, read chains", "a0a1a0a1a2d0t0a0a1a2a2d2c1c2r0a1c1r0r0"},
		{"drop, then add to the same chain", "a0a0d0a0a1c0t0"},
		{"grow past the first room, twice, across reuse", strings.Repeat("a0a1a2", 50) + "d1c2t0" + strings.Repeat("a2a0", 150) + "r0a1r0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ops []rowOp
			for i := 0; i+1 < len(tt.ops); i += 2 {
				ops = append(ops, rowOp{kind: tt.ops[i], chain: int(tt.ops[i+1] - '0')})
			}
			runRowLogs(t, 3, ops)
		})
	}
}

func TestRowLogMatchesOldRandom(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		chains := rapid.IntRange(1, 5).Draw(t, "chains")
		ops := rapid.SliceOf(rapid.Custom(func(t *rapid.T) rowOp {
			return rowOp{
				kind:  rapid.SampledFrom([]byte("aaaaaadcctr")).Draw(t, "kind"),
				chain: rapid.IntRange(0, chains-1).Draw(t, "chain"),
			}
		})).Draw(t, "ops")
		runRowLogs(t, chains, ops)
	})
}
