package trivyscan

import (
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
	// CacheDir holds the vulnerability database pulled from DBRepositories and the reports of
	// earlier scans; required.
	CacheDir string
	// DBDir is a directory holding trivy.db and metadata.json, used as is; "" means the database
	// comes from DBRepositories. It wins over DBRepositories.
	DBDir string
	// DBRepositories are the OCI repositories the database is pulled from, in order of
	// preference, e.g. DefaultDBRepositories() then a mirror such as "127.0.0.1:5000/trivy/db:2";
	// a repository without a tag means its tag 2, as for Trivy. At each refresh the first that
	// answers and holds a database wins. Nil (with no DBDir) means vulnerabilities are not scanned.
	DBRepositories []string
	// DockerConfig is a directory holding a Docker config.json that Trivy reads registry credentials
	// from (as DOCKER_CONFIG) when it downloads the database. Zero means Trivy's default, ~/.docker.
	DockerConfig string
	// InsecureRegistries are the registries (host:port) of DBRepositories that speak plain HTTP,
	// such as slipway's embedded registry. Nil means all speak HTTPS.
	InsecureRegistries []string
	// RefreshInterval is how long the database pulled from DBRepositories is used before they are
	// asked again, and how long a repository that did not answer is left out; zero means an hour.
	RefreshInterval time.Duration
	// ProbeTimeout bounds how long a repository may take to answer whether it holds the database
	// (all are asked at once) before it is taken as unreachable; zero means three seconds.
	ProbeTimeout time.Duration
	// Logger receives what goes wrong around scans and Trivy's internal notices; nil means
	// slog.Default().
	Logger *slog.Logger

	// mu is held for reading by every scan and for writing while the database is refreshed.
	mu sync.RWMutex
	// refreshMu guards what follows: when the database was last asked for, what that gave, and
	// the repositories that did not answer (by repository: when and why).
	refreshMu sync.Mutex
	refreshed time.Time
	db        database
	down      map[string]failure

	versionMu sync.Mutex
	version   string
}

// Request is one image to scan.
type Request struct {
	// Layout is the image's OCI layout directory; required.
	Layout string
	// Digest is the image's manifest digest, the key of earlier reports; "" means none is reused.
	Digest string
	// IgnoreFile is a .trivyignore (or .trivyignore.yaml) whose findings are left out; "" means none.
	IgnoreFile string
	// Log receives Trivy's own log lines, but for its internal notices (such as falling back to
	// its embedded checks), which go to Scanner.Logger at debug level; nil drops them.
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
		cached.VulnDB, cached.NotScanned = r.VulnDB, r.NotScanned // the same database (the key says so), as it is now
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
	stderr := tail{log: req.Log, notice: func(line string) { s.log().Debug("trivy", "line", line) }}
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
	if s.DockerConfig != "" {
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+s.DockerConfig)
	}
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
