package trivydb

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DBFile and MetadataFile are the two files of a Trivy DB directory, as Trivy keeps them in
// <cache-dir>/db and as db.tar.gz holds them.
const (
	DBFile       = "trivy.db"
	MetadataFile = "metadata.json"
)

// InvalidDBError is Push's refusal of a directory that is not a Trivy DB it can publish. Retrying
// does not help: the files must be fixed first.
type InvalidDBError struct {
	// Path is the file at fault.
	Path string
	// Err says what is wrong with it.
	Err error
}

// Error names the file and what is wrong with it.
func (e *InvalidDBError) Error() string {
	return fmt.Sprintf("not a Trivy DB to push: %s: %v", e.Path, e.Err)
}

// Unwrap returns Err.
func (e *InvalidDBError) Unwrap() error { return e.Err }

// metadata is the part of metadata.json that Push checks, together with the file's bytes, which it
// publishes unchanged.
type metadata struct {
	Version   int
	UpdatedAt time.Time
	raw       []byte
}

// readDir checks that dir holds a non-empty trivy.db and a metadata.json of SchemaVersion, and
// returns the metadata.
func readDir(dir string) (metadata, error) {
	db := filepath.Join(dir, DBFile)
	fi, err := os.Stat(db)
	switch {
	case err != nil:
		return metadata{}, &InvalidDBError{Path: db, Err: fileError(err)}
	case !fi.Mode().IsRegular():
		return metadata{}, &InvalidDBError{Path: db, Err: errors.New("not a regular file")}
	case fi.Size() == 0:
		return metadata{}, &InvalidDBError{Path: db, Err: errors.New("empty")}
	}
	path := filepath.Join(dir, MetadataFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return metadata{}, &InvalidDBError{Path: path, Err: fileError(err)}
	}
	var m metadata
	if err := json.Unmarshal(raw, &m); err != nil {
		return metadata{}, &InvalidDBError{Path: path, Err: fmt.Errorf("parsing: %w", err)}
	}
	if m.Version != SchemaVersion {
		return metadata{}, &InvalidDBError{Path: path, Err: fmt.Errorf("schema Version %d, want %d", m.Version, SchemaVersion)}
	}
	m.raw = raw
	return m, nil
}

// fileError is err from os without the path the caller already names; a missing file still
// matches fs.ErrNotExist.
func fileError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
