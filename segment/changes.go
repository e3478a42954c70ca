package segment

import (
	"slices"

	"github.com/mosaic-cdp/mosaic/store"
)

// changeLog holds the audience changes not saved yet. A backfill records
// up to one per profile, hundreds of thousands between two checkpoints:
// in one growing slice, each growth copied all of them again (a quarter
// of a backfill's time over a million profiles). Blocks of fixed size are
// never copied; a commit joins them once, into a slice of the exact size.
type changeLog struct {
	blocks [][]store.AudienceChange
	n      int
}

const changeBlock = 4096

func (l *changeLog) add(c store.AudienceChange) {
	if len(l.blocks) == 0 || len(l.blocks[len(l.blocks)-1]) == changeBlock {
		l.blocks = append(l.blocks, make([]store.AudienceChange, 0, changeBlock))
	}
	last := &l.blocks[len(l.blocks)-1]
	*last = append(*last, c)
	l.n++
}

func (l *changeLog) len() int { return l.n }

// take returns the changes in order and empties the log.
func (l *changeLog) take() []store.AudienceChange {
	if l.n == 0 {
		*l = changeLog{}
		return nil
	}
	out := make([]store.AudienceChange, 0, l.n)
	for _, b := range l.blocks {
		out = append(out, b...)
	}
	*l = changeLog{}
	return out
}

// prepend puts changes back before those in the log: a save that failed.
func (l *changeLog) prepend(cs []store.AudienceChange) {
	rest := l.take()
	for _, c := range cs {
		l.add(c)
	}
	for _, c := range rest {
		l.add(c)
	}
}

// dropProfile removes the changes of one profile.
func (l *changeLog) dropProfile(id uint64) {
	for i, b := range l.blocks {
		kept := slices.DeleteFunc(b, func(c store.AudienceChange) bool { return c.ProfileID == id })
		l.n -= len(b) - len(kept)
		l.blocks[i] = kept
	}
}
