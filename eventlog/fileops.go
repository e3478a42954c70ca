package eventlog

import (
	"os"
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
	// syncDir makes creations and removals in dir durable.
	syncDir(dir string) error
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

type osFile struct{ *os.File }

func (f osFile) Datasync() error { return datasync(f.File) }
