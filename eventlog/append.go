package eventlog

import (
	"context"
	"fmt"
)

// Append makes records durable and returns the sequence number of the first;
// the others follow consecutively. It returns only after the records are
// written and synced (fdatasync), together with every other Append pending
// at the same moment (group commit: one write and one sync for all of them).
//
// On error nothing of this call is visible to readers or counted in
// LastSeq. ctx only bounds the wait for the writer to take the records: once
// the writer has them, Append waits for the outcome, so a cancelled call
// never leaves records written whose caller was told otherwise. The caller
// must not modify records until Append returns. If the process dies before
// Append returns, the records may or may not be in the log after a restart,
// as with any write whose acknowledgement was lost: retry, and deduplicate
// downstream.
//
// Errors: ErrTooLarge (a record exceeds Options.MaxRecordSize), ErrNoSpace
// (disk full; retry later), ErrFailed (see there), ErrClosed, or ctx's error.
// Appending no records does nothing and returns 0.
func (l *Log) Append(ctx context.Context, records [][]byte) (first uint64, err error) {
	if len(records) == 0 {
		return 0, nil
	}
	size := 0
	for i, r := range records {
		if len(r) > l.opts.MaxRecordSize {
			return 0, fmt.Errorf("%w: record %d of the batch is %d bytes, the limit is %d (Options.MaxRecordSize)",
				ErrTooLarge, i, len(r), l.opts.MaxRecordSize)
		}
		size += frameSize(len(r))
	}
	req := getRequest(records, size)
	if err := l.queue.push(ctx, req); err != nil {
		putRequest(req)
		return 0, err
	}
	select {
	case <-req.done:
	case <-ctx.Done():
		if l.queue.withdraw(req) {
			putRequest(req)
			return 0, ctx.Err()
		}
		<-req.done
	}
	first, err = req.first, req.err
	putRequest(req)
	return first, err
}
