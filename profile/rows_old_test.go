package profile

// The rowLog before take compacted in place and reused the rows of a
// flushed batch: the reference TestRowLogMatchesOld holds rowLog to.

// oldRowLog holds the rows of one kind (timeline entries or trait writes) that
// a Set has not flushed yet, for all its profiles, in the order they were
// made. Each row links to the previous row of the same profile, so one
// profile's rows can be found (to move them with a merge, drop them with a
// delete, or read them) without a slice per profile, and a Flush hands the
// whole slice over.
type oldRowLog[T any] struct {
	rows []T
	prev []int32 // prev[i]: 1 + index of the same profile's row before rows[i]; 0: none; -1: dropped
	dead int     // rows dropped
}

// add appends row to the chain whose newest row is last (1 + index, 0 for
// an empty chain) and returns the new last.
func (l *oldRowLog[T]) add(last int32, row T) int32 {
	l.rows = append(l.rows, row)
	l.prev = append(l.prev, last)
	return int32(len(l.rows))
}

// chain returns the rows of the chain ending at last, newest first.
func (l *oldRowLog[T]) chain(last int32) []T {
	var out []T
	for i := last; i > 0; i = l.prev[i-1] {
		out = append(out, l.rows[i-1])
	}
	return out
}

// drop removes the chain ending at last and returns its rows, oldest
// first.
func (l *oldRowLog[T]) drop(last int32) []T {
	out := l.chain(last)
	for i := last; i > 0; {
		next := l.prev[i-1]
		l.prev[i-1] = -1
		l.dead++
		var zero T
		l.rows[i-1] = zero // let go of what the row refers to
		i = next
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// take returns the rows not dropped, in order, and empties the log.
func (l *oldRowLog[T]) take() []T {
	out := l.rows
	if l.dead > 0 {
		out = make([]T, 0, len(l.rows)-l.dead)
		for i, row := range l.rows {
			if l.prev[i] >= 0 {
				out = append(out, row)
			}
		}
	}
	// The next batch likely needs as much room as this one: allocate it at
	// once rather than grow to it by copying.
	n := len(l.rows)
	l.rows, l.prev, l.dead = make([]T, 0, n), l.prev[:0], 0
	return out
}
