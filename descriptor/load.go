package descriptor

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Load reads and parses the descriptor at Path under root, the root of a checked-out repository. It
// returns false, and no error, when the repository has no descriptor. A descriptor that is not a regular
// file, is larger than MaxSize or is reached through a symbolic link that leads out of root is an *Error,
// as is any problem Parse reports.
func Load(root string) (Descriptor, bool, error) {
	data, err := readFile(root, Path, MaxSize)
	if errors.Is(err, errMissing) {
		return Descriptor{}, false, nil
	}
	if err != nil {
		return Descriptor{}, false, fileError(Path, "", Path, err)
	}
	d, err := Parse(Path, data)
	if err != nil {
		return Descriptor{}, true, err
	}
	return d, true, nil
}

// Errors of readFile that say something about the repository's content rather than the machine.
var (
	errMissing    = errors.New("does not exist")
	errOutside    = errors.New("leads out of the repository")
	errNotRegular = errors.New("is not a regular file")
)

// tooLargeError is readFile's error for a file larger than its limit.
type tooLargeError struct{ size, limit int64 }

func (e tooLargeError) Error() string {
	return fmt.Sprintf("is %d bytes, more than the limit of %d", e.size, e.limit)
}

// fileError turns readFile's errors about the repository's content into an *Error on field in file, naming
// the file read when field is set, and returns the others as they are.
func fileError(file, field, name string, err error) error {
	var tooLarge tooLargeError
	msg := err.Error()
	switch {
	case errors.Is(err, errMissing), errors.Is(err, errOutside), errors.Is(err, errNotRegular), errors.As(err, &tooLarge):
	default:
		return err
	}
	if field != "" {
		msg = quote(name) + " " + msg
	}
	return invalid(file, 0, field, msg)
}

// readFile reads the regular file name, a slash-separated path relative to root that must stay inside
// root even after its symbolic links are followed, and that must be at most limit bytes. The errors that
// are about the repository's content, errMissing, errOutside, errNotRegular and tooLargeError, are
// returned bare; the others, a missing root included, are wrapped with what was read.
func readFile(root, name string, limit int64) ([]byte, error) {
	if !isLocal(name) {
		return nil, errOutside
	}
	name = filepath.FromSlash(name)
	resolved, err := checkInside(root, name)
	if err != nil {
		return nil, err
	}
	// os.Root follows only the symbolic links that stay inside root, so a file swapped after the check
	// above cannot lead out of it either.
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("opening repository %s: %w", root, err)
	}
	defer r.Close()
	info, err := r.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errMissing
	case err != nil && !resolved:
		// A symbolic link EvalSymlinks could not follow and os.Root refuses to: it leads out of root.
		return nil, errOutside
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", name, err)
	case !info.Mode().IsRegular():
		return nil, errNotRegular
	case info.Size() > limit:
		return nil, tooLargeError{info.Size(), limit}
	}
	f, err := r.Open(name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLargeError{int64(len(data)), limit}
	}
	return data, nil
}

// checkInside returns errOutside when name, relative to root, resolves through symbolic links to a file
// outside root. It reports whether name resolved at all: when it does not, a link along it may lead
// nowhere, or out of root, which only opening it can tell.
func checkInside(root, name string) (resolved bool, err error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return false, fmt.Errorf("resolving repository %s: %w", root, err)
	}
	realPath, err := filepath.EvalSymlinks(filepath.Join(root, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("resolving %s: %w", name, err)
	}
	if rel, err := filepath.Rel(realRoot, realPath); err != nil || !filepath.IsLocal(rel) {
		return false, errOutside
	}
	return true, nil
}
