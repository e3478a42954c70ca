package profile

// rowLog holds the rows of one kind (timeline entries or trait writes) that
// a Set has not flushed yet, for all its profiles, in the order they were
// made. Each row links to the previous row of the same profile, so one
// profile's rows can be found (to move them with a merge, drop them with a
// delete, or read them) without a slice per profile, and a Flush hands the
// whole slice over.
type rowLog[T any] struct {
	rows  []T
	prev  []int32 // prev[i]: 1 + index of the same profile's row before rows[i]; 0: none; -1: dropped
	dead  int     // rows dropped
	spare []T     // rows of a flushed batch handed back (see reuse), zeroed, for the next take
}

// minRows is the room a rowLog starts with: small, for a Set that sees
// a few events (a split's dry run).
const minRows = 64

// add appends row to the chain whose newest row is last (1 + index, 0 for
// an empty chain) and returns the new last.
func (l *rowLog[T]) add(last int32, row T) int32 {
	if len(l.rows) == cap(l.rows) {
		l.grow()
	}
	l.rows = append(l.rows, row)
	l.prev = append(l.prev, last)
	return int32(len(l.rows))
}

// grow doubles the room for rows. append grows a large slice by a quarter
// at a time, which copied a checkpoint's rows about four times over on
// the way to its size, and rows hold pointers: each copy costs the
// garbage collector's write barriers too.
func (l *rowLog[T]) grow() {
	grown := make([]T, len(l.rows), max(2*len(l.rows), minRows))
	copy(grown, l.rows)
	l.rows = grown
}

// chain returns the rows of the chain ending at last, newest first.
func (l *rowLog[T]) chain(last int32) []T {
	var out []T
	for i := last; i > 0; i = l.prev[i-1] {
		out = append(out, l.rows[i-1])
	}
	return out
}

// drop removes the chain ending at last and returns its rows, oldest
// first.
func (l *rowLog[T]) drop(last int32) []T {
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

// take returns the rows not dropped, in order, and empties the log. The
// rows past the returned slice's length, up to its capacity, are zero, as
// reuse expects.
//
// The rows are compacted in place rather than copied to a new slice: the
// log lets go of them here. The next batch fills a slice handed back by
// reuse, or one allocated at the size of this one: growing to it by
// copying cost more than the rows' own making.
func (l *rowLog[T]) take() []T {
	out := l.rows
	if l.dead > 0 {
		n := 0
		for i := range out {
			if l.prev[i] >= 0 {
				out[n] = out[i]
				n++
			}
		}
		clear(out[n:])
		out = out[:n]
	}
	next := l.spare
	if cap(next) < len(l.rows) {
		// As much room as this batch had: the next one is likely about as
		// large, and may well be larger.
		next = make([]T, 0, cap(l.rows))
	}
	l.rows, l.prev, l.dead, l.spare = next, l.prev[:0], 0, nil
	return out
}

// reuse hands back rows that take returned, for a later take to fill
// again. The caller must hold no reference to them, nor to the slice's
// memory, anywhere: the store has written them and no reader copies from
// them any longer.
func (l *rowLog[T]) reuse(rows []T) {
	if cap(rows) > cap(l.spare) && cap(rows) > 0 {
		clear(rows) // past len they are zero already (see take)
		l.spare = rows[:0]
	}
}

// arena copies trait values into shared chunks, one allocation per many
// values. Rows keep their slices after a Flush; the chunk is never
// rewritten, only appended to.
type arena struct {
	chunk []byte
}

const arenaChunk = 64 << 10

func (a *arena) copy(v []byte) []byte {
	if cap(a.chunk)-len(a.chunk) < len(v) {
		a.chunk = make([]byte, 0, max(arenaChunk, len(v)))
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, v...)
	return a.chunk[start:len(a.chunk):len(a.chunk)]
}
