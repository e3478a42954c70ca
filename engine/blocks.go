package engine

import "testing"

// Blocks lends Events the memory it copies messages into, and takes it back
// when the caller is done with a page. The profile stage reads the whole
// log page by page: allocating a page's megabytes anew every time cleared
// them (a 10M replay spent 4 s of CPU in memclr for it) and paced the
// garbage collector by gigabytes nobody kept.
//
// A Blocks belongs to one goroutine: the one that calls Events with it and
// gives the pages back.
type Blocks struct {
	free [][]byte
	lent [][]byte // lent since the last Page
}

// BlocksPage is the memory of one page of events, to give back with Free.
type BlocksPage [][]byte

// blockSize is the size of a block: a page of a thousand typical messages
// and their enrichment takes two or three.
const blockSize = 1 << 20

// keepFree bounds the blocks kept for reuse: the pages in flight (the one
// being resolved and those being folded, see foldAhead) need about ten.
const keepFree = 16

// get returns an empty block with room for n bytes.
func (b *Blocks) get(n int) []byte {
	var blk []byte
	if k := len(b.free); k > 0 && cap(b.free[k-1]) >= n {
		blk, b.free = b.free[k-1][:0], b.free[:k-1]
	} else {
		blk = make([]byte, 0, max(blockSize, n))
	}
	b.lent = append(b.lent, blk)
	return blk
}

// Page returns the blocks lent since the last call: the memory of the
// events read since then.
func (b *Blocks) Page() BlocksPage {
	page := BlocksPage(b.lent)
	b.lent = nil
	return page
}

// Free takes back page's blocks: nothing may use the events of that page
// any more, nor anything that aliases their messages.
func (b *Blocks) Free(page BlocksPage) {
	for _, blk := range page {
		if poisonFreed {
			// In tests, anything that kept a message of a freed page
			// reads garbage instead of what it expected.
			blk = blk[:cap(blk)]
			for i := range blk {
				blk[i] = 0xff
			}
		}
		if len(b.free) < keepFree {
			b.free = append(b.free, blk)
		}
	}
}

// poisonFreed makes Free overwrite the memory it takes back, in test
// binaries: every test that reads events through Blocks then checks that
// nothing keeps a reference into a freed page.
var poisonFreed = testing.Testing()
