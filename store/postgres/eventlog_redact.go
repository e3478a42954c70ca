package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Redact overwrites the records seqs with what replace returns for each,
// for erasure (see eventlog.Log.Redact, whose contract it keeps): rows are
// updated in place, in one transaction per thousand records, so the old
// payloads leave the table (VACUUM then reclaims their space). Positions
// that are not in the log are skipped. It returns how many records it
// rewrote.
func (l *Log) Redact(seqs []uint64, replace func(seq uint64, old []byte) []byte) (int, error) {
	ctx := context.Background()
	seqs = slices.Clone(seqs)
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	done := 0
	for len(seqs) > 0 {
		n := min(len(seqs), 1000)
		chunk := seqs[:n]
		seqs = seqs[n:]
		ids := make([]int64, len(chunk))
		for i, s := range chunk {
			ids[i] = int64(s)
		}
		err := l.db.inTx(ctx, fmt.Sprintf("redact %d event log records", len(chunk)), pgx.TxOptions{}, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT seq, data FROM event_log WHERE seq = ANY($1) FOR UPDATE`, ids)
			if err != nil {
				return err
			}
			type row struct {
				seq  int64
				data []byte
			}
			found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
				var x row
				return x, r.Scan(&x.seq, &x.data)
			})
			if err != nil {
				return err
			}
			b := &pgx.Batch{}
			for _, x := range found {
				b.Queue(`UPDATE event_log SET data = $2 WHERE seq = $1`, x.seq, replace(uint64(x.seq), x.data))
			}
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			done += len(found)
			return nil
		})
		if err != nil {
			return done, fmt.Errorf("postgres: redact the event log: %w", err)
		}
	}
	return done, nil
}
