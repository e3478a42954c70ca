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
	// Readers must not get the old payloads from memory: drop them before
	// and after (a reader may cache a page read during the rewrite).
	l.cache.clear()
	defer l.cache.clear()
	seqs = slices.Clone(seqs)
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	done := 0
	for len(seqs) > 0 {
		n := min(len(seqs), 1000)
		chunk := seqs[:n]
		seqs = seqs[n:]
		want := make(map[uint64]bool, len(chunk))
		for _, s := range chunk {
			want[s] = true
		}
		err := l.db.inTx(ctx, fmt.Sprintf("redact %d event log records", len(chunk)), pgx.TxOptions{}, func(tx pgx.Tx) error {
			// The rows holding the chunk's positions (each starts at most
			// rowMaxRecords before a position it holds), then locked.
			ids := make([]int64, len(chunk))
			for i, s := range chunk {
				ids[i] = seqArg(s)
			}
			rows, err := tx.Query(ctx, `SELECT DISTINCT e.seq FROM unnest($1::bigint[]) AS t(s)
				CROSS JOIN LATERAL (SELECT seq FROM event_log WHERE seq <= t.s AND seq > t.s - $2 AND seq + n > t.s
					ORDER BY seq DESC LIMIT 1) AS e`, ids, rowMaxRecords)
			if err != nil {
				return err
			}
			starts, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return err
			}
			rows, err = tx.Query(ctx, `SELECT seq, n, appended, data FROM event_log WHERE seq = ANY($1) ORDER BY seq FOR UPDATE`, starts)
			if err != nil {
				return err
			}
			var found []logRow
			var row logRow
			_, err = pgx.ForEachRow(rows, []any{&row.seq, &row.n, &row.at, &row.data}, func() error {
				found = append(found, row)
				row.data = nil
				return nil
			})
			if err != nil {
				return err
			}
			b := &pgx.Batch{}
			rewritten := 0
			for _, r := range found {
				recs, err := r.unpack(nil)
				if err != nil {
					return err
				}
				changed := false
				for i, rec := range recs {
					if want[rec.Seq] {
						recs[i].Data = replace(rec.Seq, rec.Data)
						changed = true
						rewritten++
					}
				}
				if !changed {
					continue
				}
				// The row keeps its position and count whatever the new
				// payloads' sizes.
				b.Queue(`UPDATE event_log SET data = $2 WHERE seq = $1`, r.seq, packOne(recs))
			}
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			done += rewritten
			return nil
		})
		if err != nil {
			return done, fmt.Errorf("postgres: redact the event log: %w", err)
		}
	}
	return done, nil
}
