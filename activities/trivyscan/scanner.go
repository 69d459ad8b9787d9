package trivyscan

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/slipway-dev/slipway/scan"
)

// Scanner runs Trivy for one worker. Its zero value is not usable: CacheDir is required.
type Scanner struct {
	// Binary is the trivy executable; "" means "trivy" on PATH.
	Binary string
	// CacheDir holds the vulnerability database pulled from DBRepository and the reports of
	// earlier scans; required.
	CacheDir string
	// DBDir is a directory holding trivy.db and metadata.json, used as is; "" means the database
	// comes from DBRepository. It wins over DBRepository.
	DBDir string
	// DBRepository is the OCI repository Trivy pulls the database from, e.g.
	// "127.0.0.1:5000/trivy/db:2"; "" (with no DBDir) means vulnerabilities are not scanned.
	DBRepository string
	// Insecure says DBRepository's registry speaks plain HTTP.
	Insecure bool
	// RefreshInterval is how long the database pulled from DBRepository is used before asking the
	// repository again; zero means an hour.
	RefreshInterval time.Duration
	// Logger receives what goes wrong around scans; nil means slog.Default().
	Logger *slog.Logger

	// mu is held for reading by every scan and for writing while the database is refreshed.
	mu sync.RWMutex
	// refreshed is when the database was last asked for; db describes what that gave.
	refreshMu sync.Mutex
	refreshed time.Time
	db        database

	versionMu sync.Mutex
	version   string
}

// database is the vulnerability database scans use now.
type database struct {
	// cacheDir is the --cache-dir that holds it as db/trivy.db; "" means none is available, for reason.
	cacheDir string
	info     scan.VulnDB
	reason   string
}

// Request is one image to scan.
type Request struct {
	// Layout is the image's OCI layout directory; required.
	Layout string
	// Digest is the image's manifest digest, the key of earlier reports; "" means none is reused.
	Digest string
	// IgnoreFile is a .trivyignore (or .trivyignore.yaml) whose findings are left out; "" means none.
	IgnoreFile string
	// Log receives Trivy's own log lines; nil drops them.
	Log func(string)
}

// ErrLayout means the layout is not an image Trivy can read: scanning it again will not help.
var ErrLayout = errors.New("image layout unreadable")

// Scan scans the image for vulnerabilities (when a database is available), secrets in its files and
// misconfigurations and secrets in its configuration. The report says what was not scanned.
func (s *Scanner) Scan(ctx context.Context, req Request) (scan.Report, error) {
	version, err := s.trivyVersion(ctx)
	if err != nil {
		return scan.Report{}, err
	}
	db := s.database(ctx)
	s.mu.RLock()
	defer s.mu.RUnlock()

	r := scan.Report{Digest: req.Digest, Scanner: "trivy " + version, ScannedAt: time.Now().UTC()}
	scanners := []string{scan.ScannerVuln, scan.ScannerSecret, scan.ScannerMisconfig}
	if db.cacheDir == "" {
		scanners = scanners[1:]
		r.NotScanned = []scan.Skipped{{Scanner: scan.ScannerVuln, Reason: db.reason}}
	} else {
		r.VulnDB = &db.info
	}
	r.Scanned = scanners

	key, err := reportKey(req, version, db, scanners)
	if err != nil {
		return scan.Report{}, err
	}
	if cached, ok := s.cachedReport(key); ok {
		cached.Cached = true
		return cached, nil
	}

	out, err := s.run(ctx, req, db, scanners)
	if err != nil {
		return scan.Report{}, err
	}
	if err := decode(out, &r); err != nil {
		return scan.Report{}, err
	}
	s.keepReport(key, r)
	return r, nil
}

// run runs one trivy scan and returns its JSON report.
func (s *Scanner) run(ctx context.Context, req Request, db database, scanners []string) ([]byte, error) {
	if err := os.MkdirAll(s.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("making the scan cache dir: %w", err)
	}
	tmp, err := os.MkdirTemp(s.CacheDir, "scan-")
	if err != nil {
		return nil, fmt.Errorf("making scan dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	cacheDir := db.cacheDir
	if cacheDir == "" {
		cacheDir = tmp // no database: Trivy needs a cache dir all the same
	}
	output := filepath.Join(tmp, "report.json")
	args := []string{"image", "--input", req.Layout, "--skip-version-check", "--disable-telemetry",
		"--format", "json", "--output", output, "--no-progress",
		"--cache-dir", cacheDir, "--cache-backend", "memory",
		"--skip-db-update", "--skip-java-db-update", "--skip-check-update", "--offline-scan",
		"--scanners", strings.Join(imageScanners(scanners), ","),
		"--image-config-scanners", "misconfig,secret",
	}
	if req.IgnoreFile != "" {
		args = append(args, "--ignorefile", req.IgnoreFile)
	}
	var stderr tail
	stderr.log = req.Log
	if err := s.command(ctx, &stderr, args...).Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := stderr.String()
		if strings.Contains(msg, "unable to initialize") && strings.Contains(msg, "image") {
			return nil, fmt.Errorf("%w: %s", ErrLayout, msg)
		}
		return nil, fmt.Errorf("trivy: %w: %s", err, msg)
	}
	data, err := os.ReadFile(output)
	if err != nil {
		return nil, fmt.Errorf("reading trivy's report: %w", err)
	}
	return data, nil
}

// imageScanners are Trivy's --scanners for the image's files: misconfig is checked on the image's
// configuration only (--image-config-scanners), which is the Dockerfile as built.
func imageScanners(scanners []string) []string {
	var out []string
	for _, s := range scanners {
		if s != scan.ScannerMisconfig {
			out = append(out, s)
		}
	}
	return out
}

func (s *Scanner) command(ctx context.Context, stderr io.Writer, args ...string) *exec.Cmd {
	bin := s.Binary
	if bin == "" {
		bin = "trivy"
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = stderr
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (s *Scanner) log() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// trivyVersion runs `trivy --version` until it answers once.
func (s *Scanner) trivyVersion(ctx context.Context) (string, error) {
	s.versionMu.Lock()
	defer s.versionMu.Unlock()
	if s.version != "" {
		return s.version, nil
	}
	var stderr tail
	out, err := s.command(ctx, &stderr, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("running trivy --version (is trivy built? `make tools`): %w: %s", err, stderr.String())
	}
	first, _, _ := strings.Cut(string(out), "\n")
	s.version = strings.TrimSpace(strings.TrimPrefix(first, "Version:"))
	return s.version, nil
}

// database returns the vulnerability database to scan with, refreshing it from DBRepository
// when RefreshInterval has passed.
func (s *Scanner) database(ctx context.Context) database {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	interval := s.RefreshInterval
	if interval == 0 {
		interval = time.Hour
	}
	if !s.refreshed.IsZero() && time.Since(s.refreshed) < interval && s.db.cacheDir != "" {
		return s.db
	}
	s.refreshed = time.Now()
	switch {
	case s.DBDir != "":
		s.db = s.localDatabase()
	case s.DBRepository != "":
		s.db = s.pulledDatabase(ctx)
	default:
		s.db = database{reason: scan.ReasonNoVulnDB + ": no database source is configured"}
	}
	return s.db
}

// localDatabase links DBDir where Trivy looks for it (<cache-dir>/db).
func (s *Scanner) localDatabase() database {
	dir := filepath.Join(s.CacheDir, "local")
	info, err := readMetadata(s.DBDir)
	if err != nil {
		return database{reason: scan.ReasonNoVulnDB + ": " + err.Error()}
	}
	if _, err := os.Stat(filepath.Join(s.DBDir, "trivy.db")); err != nil {
		return database{reason: scan.ReasonNoVulnDB + ": " + err.Error()}
	}
	abs, err := filepath.Abs(s.DBDir)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		_ = os.Remove(filepath.Join(dir, "db"))
		err = os.Symlink(abs, filepath.Join(dir, "db"))
	}
	if err != nil {
		return database{reason: scan.ReasonNoVulnDB + ": " + err.Error()}
	}
	info.Source = abs
	return database{cacheDir: dir, info: info}
}

// pulledDatabase asks Trivy to pull the database from DBRepository when its copy is due for an
// update; scans wait for the pull (they hold mu for reading). A failed pull keeps using an earlier copy.
func (s *Scanner) pulledDatabase(ctx context.Context) database {
	dir := filepath.Join(s.CacheDir, "repo")
	args := []string{"image", "--download-db-only", "--skip-version-check", "--disable-telemetry", "--no-progress",
		"--cache-dir", dir, "--db-repository", s.DBRepository}
	if s.Insecure {
		args = append(args, "--insecure")
	}
	var stderr tail
	s.mu.Lock()
	err := s.command(ctx, &stderr, args...).Run()
	s.mu.Unlock()
	info, merr := readMetadata(filepath.Join(dir, "db"))
	if err != nil {
		s.log().Warn("pulling the vulnerability database", "repository", s.DBRepository, "err", err, "stderr", stderr.String())
		if merr != nil {
			return database{reason: fmt.Sprintf("%s: pulling %s failed: %s", scan.ReasonNoVulnDB, s.DBRepository, lastLine(stderr.String(), err))}
		}
	}
	if merr != nil {
		return database{reason: scan.ReasonNoVulnDB + ": " + merr.Error()}
	}
	info.Source = s.DBRepository
	return database{cacheDir: dir, info: info}
}

// readMetadata reads a database's metadata.json.
func readMetadata(dir string) (scan.VulnDB, error) {
	data, err := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err != nil {
		return scan.VulnDB{}, fmt.Errorf("reading the database's metadata: %w", err)
	}
	var m struct {
		Version   int
		UpdatedAt time.Time
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return scan.VulnDB{}, fmt.Errorf("decoding %s: %w", filepath.Join(dir, "metadata.json"), err)
	}
	if m.Version != 2 {
		return scan.VulnDB{}, fmt.Errorf("database schema version %d in %s, want 2", m.Version, dir)
	}
	return scan.VulnDB{UpdatedAt: m.UpdatedAt.UTC()}, nil
}

// reportKey names a report by everything that decides it: the image, Trivy, the database, the
// scanners and the ignore rules.
func reportKey(req Request, version string, db database, scanners []string) (string, error) {
	if req.Digest == "" {
		return "", nil
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00", req.Digest, version, db.info.Source, db.info.UpdatedAt.Format(time.RFC3339Nano), strings.Join(scanners, ","))
	if req.IgnoreFile != "" {
		data, err := os.ReadFile(req.IgnoreFile)
		if err != nil {
			return "", fmt.Errorf("reading the ignore file: %w", err)
		}
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *Scanner) reportPath(key string) string {
	return filepath.Join(s.CacheDir, "reports", key+".json")
}

func (s *Scanner) cachedReport(key string) (scan.Report, bool) {
	if key == "" {
		return scan.Report{}, false
	}
	data, err := os.ReadFile(s.reportPath(key))
	if err != nil {
		return scan.Report{}, false
	}
	var r scan.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return scan.Report{}, false
	}
	return r, true
}

// keepReport writes the report for later scans of the same image; a failure only costs a re-scan.
func (s *Scanner) keepReport(key string, r scan.Report) {
	if key == "" {
		return
	}
	data, err := json.Marshal(r)
	if err == nil {
		err = writeAtomic(s.reportPath(key), data)
	}
	if err != nil {
		s.log().Warn("keeping the scan report", "digest", r.Digest, "err", err)
	}
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// tail passes Trivy's stderr lines on and keeps the last few for errors.
type tail struct {
	log   func(string)
	buf   bytes.Buffer
	lines []string
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf.Write(p)
	for {
		line, err := t.buf.ReadString('\n')
		if err != nil {
			t.buf.WriteString(line) // an unfinished line waits for the rest
			return len(p), nil
		}
		t.add(strings.TrimRight(line, "\r\n"))
	}
}

func (t *tail) add(line string) {
	if line == "" {
		return
	}
	if t.log != nil {
		t.log(line)
	}
	t.lines = append(t.lines, line)
	if len(t.lines) > 8 {
		t.lines = t.lines[1:]
	}
}

// String is the last lines written, the unfinished one included.
func (t *tail) String() string {
	if rest := t.buf.String(); rest != "" {
		t.add(rest)
		t.buf.Reset()
	}
	return strings.Join(t.lines, "\n")
}

func lastLine(s string, err error) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	last := ""
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	if last == "" {
		return err.Error()
	}
	return last
}
