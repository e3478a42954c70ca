package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The identity graph snapshot is kept in a file beside the database, named
// for the log position it reflects, and profile_state records that
// position with a NULL graph. At a million people a snapshot is about
// 300 MB: as a blob it went through SQLite's page cache into the WAL and
// again into the database, and its old pages were freed, which took a
// seventh of a replay's CPU. A file is written once, synced, and renamed
// into place before the transaction that names it commits, so the
// database never names a file that is not complete.
//
// A snapshot holds identifiers, so a replaced one is overwritten with
// zeros before it is removed: an erased person's identifiers must not
// stay on disk in a file the next snapshot replaced, as Compact wipes the
// database's free pages for the same reason.

// graphPrefix starts the name of a snapshot file: the database file's
// name, then ".graph-" and the position.
func (db *DB) graphPrefix() string { return filepath.Base(db.path) + ".graph-" }

// graphPath returns the snapshot file of position seq.
func (db *DB) graphPath(seq uint64) string {
	return filepath.Join(filepath.Dir(db.path), db.graphPrefix()+strconv.FormatUint(seq, 10))
}

// writeGraph writes graph durably to a new temporary file beside the
// database and returns its path, for placeGraph to name it once the
// transaction knows the commit is new.
func (db *DB) writeGraph(graph []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(db.path), db.graphPrefix()+"*.tmp")
	if err != nil {
		return "", fmt.Errorf("write the identity graph snapshot: %w (check the data directory's free space)", err)
	}
	_, err = f.Write(graph)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write the identity graph snapshot %s: %w (check the data directory's free space)", f.Name(), err)
	}
	return f.Name(), nil
}

// placeGraph names the written snapshot tmp as that of position seq. The
// database names no snapshot at seq yet (its position is below seq), so
// nothing it reads is replaced.
func (db *DB) placeGraph(tmp string, seq uint64) error {
	path := db.graphPath(seq)
	err := os.Rename(tmp, path)
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("write the identity graph snapshot %s: %w", path, err)
	}
	return nil
}

// readGraph reads the snapshot file of position seq.
func (db *DB) readGraph(seq uint64) ([]byte, error) {
	b, err := os.ReadFile(db.graphPath(seq))
	if err != nil {
		return nil, fmt.Errorf("read the identity graph snapshot at %d: %w: restore the data directory from a backup, or rebuild derived state with mosaic replay", seq, err)
	}
	return b, nil
}

// removeGraphs wipes and removes every snapshot file but the one the
// database names now (none after a reset), and any left half-written.
func (db *DB) removeGraphs(ctx context.Context) error {
	var keep int64
	if err := db.write.QueryRowContext(ctx, `SELECT graph_seq FROM profile_state WHERE id = 1 AND graph IS NULL`).Scan(&keep); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return wrap(ctx, "read the identity graph snapshot's position", err)
	}
	dir := filepath.Dir(db.path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("remove old identity graph snapshots: %w", err)
	}
	var errs []error
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), db.graphPrefix())
		if !ok {
			continue
		}
		if seq, err := strconv.ParseInt(rest, 10, 64); err == nil && seq == keep && keep > 0 {
			continue
		}
		errs = append(errs, wipeFile(filepath.Join(dir, e.Name())))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove old identity graph snapshots: %w", err)
	}
	return nil
}

// wipeFile overwrites a file with zeros, syncs it and removes it.
func wipeFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	info, err := f.Stat()
	if err == nil {
		zeros := make([]byte, 1<<20)
		for left := info.Size(); left > 0 && err == nil; left -= int64(len(zeros)) {
			_, err = f.Write(zeros[:min(left, int64(len(zeros)))])
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Remove(path)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
