package ociregistry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/google/go-containerregistry/pkg/registry"
)

// maxManifestSize bounds a manifest body; registries commonly refuse manifests over 4 MiB.
const maxManifestSize = 4 << 20

// journalEntry is one manifest change, in the order the registry accepted it.
type journalEntry struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	ContentType string `json:"contentType,omitempty"`
	Body        []byte `json:"body,omitempty"`
}

// Registry is an http.Handler serving the OCI distribution API from a directory. Blobs live under
// <dir>/blobs by digest; manifest changes are appended to <dir>/manifests.jsonl and replayed on
// open, because go-containerregistry's registry keeps manifests in memory.
type Registry struct {
	inner   http.Handler
	mu      sync.Mutex // serialises manifest writes so the journal order is the order applied
	journal *os.File
}

// Open opens or creates a registry in dir and replays its manifest journal. It logs nothing (the
// registry's request log is discarded), so logger is unused for now.
func Open(dir string, logger *slog.Logger) (*Registry, error) {
	blobs := filepath.Join(dir, "blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return nil, fmt.Errorf("creating registry dir: %w", err)
	}
	inner := registry.New(
		registry.WithBlobHandler(registry.NewDiskBlobHandler(blobs)),
		registry.Logger(log.New(io.Discard, "", 0)),
	)
	path := filepath.Join(dir, "manifests.jsonl")
	if err := replay(inner, path); err != nil {
		return nil, err
	}
	journal, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening manifest journal: %w", err)
	}
	return &Registry{inner: inner, journal: journal}, nil
}

// Close closes the manifest journal. Requests after Close fail to record manifest changes.
func (r *Registry) Close() error { return r.journal.Close() }

// ServeHTTP serves the distribution API and journals every accepted manifest PUT and DELETE.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !isManifestWrite(req) {
		r.inner.ServeHTTP(w, req)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxManifestSize+1))
	if err != nil {
		http.Error(w, "reading manifest: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxManifestSize {
		http.Error(w, "manifest too large", http.StatusRequestEntityTooLarge)
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	entry := journalEntry{Method: req.Method, Path: req.URL.Path, ContentType: req.Header.Get("Content-Type"), Body: body}

	r.mu.Lock()
	defer r.mu.Unlock()
	rec := httptest.NewRecorder()
	r.inner.ServeHTTP(rec, req)
	if rec.Code == http.StatusCreated || rec.Code == http.StatusAccepted {
		if err := r.record(entry); err != nil {
			http.Error(w, "recording manifest: "+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// record appends e to the journal and syncs it. A failed write is cut off again, so a later
// append never lands after a torn line.
func (r *Registry) record(e journalEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	end, err := r.journal.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if _, err := r.journal.Write(append(line, '\n')); err != nil {
		return errors.Join(err, r.journal.Truncate(end))
	}
	if err := r.journal.Sync(); err != nil {
		return errors.Join(err, r.journal.Truncate(end))
	}
	return nil
}

// manifestPath matches /v2/<repository>/manifests/<reference>; a repository may itself have a
// "manifests" segment (blob uploads to it must not count as manifest writes).
var manifestPath = regexp.MustCompile(`^/v2/.+/manifests/[^/]+$`)

func isManifestWrite(req *http.Request) bool {
	if req.Method != http.MethodPut && req.Method != http.MethodDelete {
		return false
	}
	return manifestPath.MatchString(req.URL.Path)
}

// replay applies the journal at path to a fresh registry and cuts off a torn last line (a crash
// mid-write) so later appends start on a line of their own. Any other unreadable line is an error,
// since skipping it could lose an image.
func replay(h http.Handler, path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading manifest journal: %w", err)
	}
	complete := bytes.LastIndexByte(data, '\n') + 1
	if complete < len(data) {
		if err := os.Truncate(path, int64(complete)); err != nil {
			return fmt.Errorf("cutting torn manifest journal line: %w", err)
		}
	}
	lines := bytes.Split(data[:complete], []byte{'\n'})
	for i, line := range lines[:len(lines)-1] {
		var e journalEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("manifest journal %s line %d: %w", path, i+1, err)
		}
		req := httptest.NewRequest(e.Method, e.Path, bytes.NewReader(e.Body))
		if e.ContentType != "" {
			req.Header.Set("Content-Type", e.ContentType)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated && rec.Code != http.StatusAccepted {
			return fmt.Errorf("replaying manifest journal line %d (%s %s): status %d: %s", i+1, e.Method, e.Path, rec.Code, rec.Body.String())
		}
	}
	return nil
}
