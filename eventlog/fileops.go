package eventlog

import (
	"context"
	"os"
	"time"
)

// fileSystem is the layer the writer changes files through. Production uses
// osFS; tests wrap it to inject failures such as ENOSPC into real files.
// Reading goes straight to the os package: read failures need no injection
// to be tested, since damaged files are made on disk.
type fileSystem interface {
	// create makes a new segment file, truncating a leftover of that name.
	create(path string) (segmentFile, error)
	// openWrite opens an existing segment for writing.
	openWrite(path string) (segmentFile, error)
	remove(path string) error
	// rename moves a prepared segment file to its segment name.
	rename(from, to string) error
	// syncDir makes creations, renames and removals in dir durable.
	syncDir(dir string) error
	// prepare makes a file of size bytes at path, a segment header and
	// zeros, and syncs it: a segment whose blocks exist before any record
	// goes into them (see preparer), made as plan says. It gives up with
	// ctx's error.
	prepare(ctx context.Context, path string, size int64, plan fillPlan) error
}

// segmentFile is a segment open for writing.
type segmentFile interface {
	WriteAt(p []byte, off int64) (int, error)
	Truncate(size int64) error
	// Datasync makes written data and the file size durable (fdatasync).
	Datasync() error
	Close() error
}

type osFS struct{}

func (osFS) create(path string) (segmentFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) openWrite(path string) (segmentFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) remove(path string) error { return os.Remove(path) }

func (osFS) rename(from, to string) error { return os.Rename(from, to) }

func (osFS) syncDir(dir string) error {
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

// Zero-filling writes this much per call and syncs every prepareSyncEvery
// bytes, so the disk takes the zeros in steps rather than one burst that
// would hold up the writer's own syncs.
const (
	prepareChunk     = 1 << 20
	prepareSyncEvery = 8 << 20
)

// fillPlan says how to prepare a segment file: with its zeros written, at
// up to pace bytes a second (0 for no limit), or only allocated.
type fillPlan struct {
	zero bool
	pace int64
}

func (osFS) prepare(ctx context.Context, path string, size int64, plan fillPlan) (err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if _, err := f.WriteAt(segmentHeader(), 0); err != nil {
		return err
	}
	if !plan.zero && allocate(f, size) == nil {
		return datasync(f)
	}
	return writeZeros(ctx, f, size, plan.pace)
}

// writeZeros fills f with zeros from the header to size, syncing every
// prepareSyncEvery bytes, and writes no faster than pace bytes a second.
func writeZeros(ctx context.Context, f *os.File, size, pace int64) error {
	zeros := make([]byte, prepareChunk)
	start, unsynced := time.Now(), int64(0)
	for off := int64(segmentHeaderSize); off < size; {
		n := min(int64(len(zeros)), size-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return err
		}
		off, unsynced = off+n, unsynced+n
		if unsynced >= prepareSyncEvery || off == size {
			if err := datasync(f); err != nil {
				return err
			}
			unsynced = 0
		}
		if err := pause(ctx, start, off, pace); err != nil {
			return err
		}
	}
	return nil
}

// pause waits until writing done bytes since start keeps to pace bytes a
// second (no wait if pace is 0), or until ctx is done.
func pause(ctx context.Context, start time.Time, done, pace int64) error {
	if pace > 0 {
		due := start.Add(time.Duration(float64(done) / float64(pace) * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	}
	return ctx.Err()
}

type osFile struct{ *os.File }

func (f osFile) Datasync() error { return datasync(f.File) }
