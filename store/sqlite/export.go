package sqlite

import (
	"context"
)

// AllSettings returns every setting, for copying an installation to
// another store (mosaic migrate). It is not part of store.Store: only the
// migration lists settings it does not know by name.
func (db *DB) AllSettings(ctx context.Context) (map[string]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT key, value FROM settings ORDER BY key`)
	if err != nil {
		return nil, wrap(ctx, "list settings", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, wrap(ctx, "list settings", err)
		}
		out[k] = v
	}
	return out, wrap(ctx, "list settings", rows.Err())
}
