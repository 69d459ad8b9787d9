package trivyscan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/slipway-dev/slipway/scan"
)

// Trivy's own vulnerability database repositories, which `trivy` pulls from, in this order, when
// given no --db-repository (Trivy v0.74's db.DefaultGCRRepository and db.DefaultGHCRRepository).
const (
	TrivyGCRRepository  = "mirror.gcr.io/aquasec/trivy-db:2"
	TrivyGHCRRepository = "ghcr.io/aquasecurity/trivy-db:2"
)

// DefaultDBRepositories returns Trivy's own database repositories in Trivy's order.
func DefaultDBRepositories() []string {
	return []string{TrivyGCRRepository, TrivyGHCRRepository}
}

const (
	// dbSchemaTag is the tag of a repository named without one, as Trivy adds it: the DB schema.
	dbSchemaTag = "2"
	// defaultRefreshInterval is Scanner.RefreshInterval's zero value.
	defaultRefreshInterval = time.Hour
	// defaultProbeTimeout is Scanner.ProbeTimeout's zero value.
	defaultProbeTimeout = 3 * time.Second
	// sourceFile, beside the pulled database, names the repository the copy came from: Trivy does
	// not download a database it holds a recent enough copy of, whichever repository it asks.
	sourceFile = "source.json"
)

// ParseDBRepositories splits a comma-separated list of OCI repositories into
// Scanner.DBRepositories, each with the tag Trivy gives one named without a tag. It fails on a
// reference that is not one.
func ParseDBRepositories(list string) ([]string, error) {
	var out []string
	for _, repo := range strings.Split(list, ",") {
		repo = strings.TrimSpace(repo)
		if repo == "" {
			continue
		}
		ref, err := name.ParseReference(repo, name.WithDefaultTag(dbSchemaTag))
		if err != nil {
			return nil, fmt.Errorf("vulnerability database repository %q: %w", repo, err)
		}
		out = append(out, ref.Name())
	}
	return out, nil
}

// database is the vulnerability database scans use now.
type database struct {
	// cacheDir is the --cache-dir that holds it as db/trivy.db; "" means none is available, for reason.
	cacheDir string
	info     scan.VulnDB
	reason   string
}

// failure is a repository that did not answer, when it was asked.
type failure struct {
	at  time.Time
	err error
}

// errNoDatabase means a repository answered that it holds no database. Unlike one that does not
// answer, it is asked again at the next scan, so a database pushed there is used at once.
var errNoDatabase = errors.New("no database there (`slipway trivy-db push` puts one in slipway's registry)")

func (s *Scanner) refreshInterval() time.Duration {
	if s.RefreshInterval == 0 {
		return defaultRefreshInterval
	}
	return s.RefreshInterval
}

func (s *Scanner) probeTimeout() time.Duration {
	if s.ProbeTimeout == 0 {
		return defaultProbeTimeout
	}
	return s.ProbeTimeout
}

// database returns the vulnerability database to scan with, refreshing it when RefreshInterval has
// passed. Without a database every scan asks again, leaving out the repositories that did not answer.
func (s *Scanner) database(ctx context.Context) database {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	if !s.refreshed.IsZero() && time.Since(s.refreshed) < s.refreshInterval() && s.db.cacheDir != "" {
		return s.db
	}
	s.refreshed = time.Now()
	switch {
	case s.DBDir != "":
		s.db = s.localDatabase()
	case len(s.DBRepositories) > 0:
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

// pulledDatabase keeps the database of the first of DBRepositories that gives one; when none
// does, an earlier copy serves on. All are probed at once, so those that do not answer cost one
// ProbeTimeout together, and a repository that did not answer is left out until RefreshInterval
// has passed: an unreachable one costs one probe an interval, not one a build. Scans wait for
// Trivy's pull (they hold mu for reading), not for the probes.
func (s *Scanner) pulledDatabase(ctx context.Context) database {
	dir := filepath.Join(s.CacheDir, "repo")
	pctx, cancel := context.WithCancel(ctx)
	defer cancel() // the probes of the repositories after the one that gave the database
	probes := make([]<-chan probed, len(s.DBRepositories))
	for i, repo := range s.DBRepositories {
		probes[i] = s.startProbe(pctx, repo)
	}
	var whyNot []string
	for i, repo := range s.DBRepositories {
		p := <-probes[i]
		err := p.err
		if err == nil {
			err = s.trivyPull(ctx, dir, p.ref)
		}
		if err == nil {
			var info scan.VulnDB
			if info, err = pulledInfo(dir, repo); err == nil {
				delete(s.down, repo)
				return database{cacheDir: dir, info: info}
			}
		}
		whyNot = append(whyNot, repo+": "+err.Error())
		if ctx.Err() != nil {
			break
		}
		if !p.skipped && !errors.Is(err, errNoDatabase) {
			if s.down == nil {
				s.down = map[string]failure{}
			}
			s.down[repo] = failure{at: time.Now(), err: err}
		}
	}
	if info, err := pulledInfo(dir, ""); err == nil {
		s.log().Warn("no vulnerability database repository gave a database: scanning with the earlier copy",
			"source", info.Source, "updated", info.UpdatedAt, "tried", strings.Join(whyNot, "; "))
		return database{cacheDir: dir, info: info}
	}
	return database{reason: scan.ReasonNoVulnDB + ": " + strings.Join(whyNot, "; ")}
}

// probed is what asking one repository gave: nil err means Trivy may pull from ref.
type probed struct {
	ref name.Reference
	err error
	// skipped says the repository was not asked: it did not answer within RefreshInterval.
	skipped bool
}

// startProbe asks repo whether it holds the database, unless it did not answer within
// RefreshInterval, and returns where the answer will be.
func (s *Scanner) startProbe(ctx context.Context, repo string) <-chan probed {
	out := make(chan probed, 1)
	interval := s.refreshInterval()
	if f, ok := s.down[repo]; ok && time.Since(f.at) < interval {
		out <- probed{err: fmt.Errorf("%w (asked again after %s)", f.err, f.at.Add(interval).UTC().Format(time.TimeOnly)), skipped: true}
		return out
	}
	ref, err := s.reference(repo)
	if err != nil {
		out <- probed{err: err}
		return out
	}
	go func() { out <- probed{ref: ref, err: s.probe(ctx, ref)} }()
	return out
}

// reference parses repo as Trivy does (no tag means the schema's), plain HTTP for InsecureRegistries.
func (s *Scanner) reference(repo string) (name.Reference, error) {
	ref, err := name.ParseReference(repo, name.WithDefaultTag(dbSchemaTag))
	if err != nil {
		return nil, fmt.Errorf("not a repository: %w", err)
	}
	if slices.Contains(s.InsecureRegistries, ref.Context().RegistryStr()) {
		return name.ParseReference(repo, name.WithDefaultTag(dbSchemaTag), name.Insecure)
	}
	return ref, nil
}

// probe asks the registry for the database's manifest, once (the next repository is the retry).
// Any answer but "not found" lets Trivy try: with its credentials it may get further.
func (s *Scanner) probe(ctx context.Context, ref name.Reference) error {
	timeout := s.probeTimeout()
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := remote.Head(ref, remote.WithContext(pctx), remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	var terr *transport.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound:
		return errNoDatabase
	case errors.As(err, &terr):
		return nil
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case pctx.Err() != nil:
		return fmt.Errorf("no answer within %s", timeout)
	}
	return fmt.Errorf("not answering: %w", err)
}

// trivyPull runs Trivy's own download of the database from ref into dir; Trivy leaves a copy it
// downloaded within the hour, or that is not due for an update, as it is.
func (s *Scanner) trivyPull(ctx context.Context, dir string, ref name.Reference) error {
	args := []string{"image", "--download-db-only", "--skip-version-check", "--disable-telemetry", "--no-progress",
		"--cache-dir", dir, "--db-repository", ref.Name()}
	if slices.Contains(s.InsecureRegistries, ref.Context().RegistryStr()) {
		args = append(args, "--insecure")
	}
	var stderr tail
	s.mu.Lock()
	err := s.command(ctx, &stderr, args...).Run()
	s.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		s.log().Debug("trivy's pull of the vulnerability database failed", "repository", ref.Name(), "stderr", stderr.String())
		return fmt.Errorf("pulling it failed: %s", lastLine(stderr.String(), err))
	}
	return nil
}

// readMetadata reads a database's metadata.json.
func readMetadata(dir string) (scan.VulnDB, error) {
	data, err := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err != nil {
		return scan.VulnDB{}, fmt.Errorf("reading the database's metadata: %w", err)
	}
	var m struct {
		Version      int
		UpdatedAt    time.Time
		DownloadedAt time.Time
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return scan.VulnDB{}, fmt.Errorf("decoding %s: %w", filepath.Join(dir, "metadata.json"), err)
	}
	if m.Version != 2 {
		return scan.VulnDB{}, fmt.Errorf("database schema version %d in %s, want 2", m.Version, dir)
	}
	return scan.VulnDB{UpdatedAt: m.UpdatedAt.UTC(), DownloadedAt: m.DownloadedAt.UTC()}, nil
}

// pulledInfo describes the database Trivy keeps in dir. repo is the repository Trivy was just
// asked to pull from: when Trivy downloaded a new copy, sourceFile records repo as its source. ""
// means none was asked.
func pulledInfo(dir, repo string) (scan.VulnDB, error) {
	info, err := readMetadata(filepath.Join(dir, "db"))
	if err != nil {
		return scan.VulnDB{}, err
	}
	var src struct {
		Source       string
		DownloadedAt time.Time
	}
	path := filepath.Join(dir, sourceFile)
	data, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(data, &src)
	}
	if repo != "" && (err != nil || !src.DownloadedAt.Equal(info.DownloadedAt)) {
		src.Source, src.DownloadedAt = repo, info.DownloadedAt
		data, err = json.Marshal(src)
		if err == nil {
			err = writeAtomic(path, data)
		}
		if err != nil {
			return scan.VulnDB{}, fmt.Errorf("recording the database's source: %w", err)
		}
	}
	info.Source = src.Source
	if info.Source == "" {
		info.Source = "an earlier pull (source not recorded)"
	}
	return info, nil
}
