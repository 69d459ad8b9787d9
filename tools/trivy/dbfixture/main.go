// Command trivydb-fixture writes a small, valid Trivy vulnerability DB for tests: `trivydb-fixture
// <dir>` leaves <dir>/trivy.db and <dir>/metadata.json, the two files Trivy keeps in <cache-dir>/db.
//
// The DB is built the way trivy-db builds the real one, with trivy-db's own code: its Alpine source
// stores the advisories (buckets "alpine 3.20" and "data-source"), NVD-style details give each
// vulnerability its title and severity, and the same optimize and cleanup steps as trivy-db's
// vulndb.Build fold them into the "vulnerability" bucket Trivy reads. It holds, for Alpine 3.20:
//
//	slipway-fixture-vuln  CVE-2099-0001  CRITICAL  fixed in 1.0.1-r0
//	slipway-fixture-vuln  CVE-2099-0002  HIGH      fixed in 1.0.2-r0
//
// so an image whose lib/apk/db/installed lists slipway-fixture-vuln 1.0.0-r0 has both.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	"github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/alpine"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
)

// Package, Release and validity of the fixture's advisories.
const (
	fixturePackage = "slipway-fixture-vuln"
	alpineRelease  = "3.20"
	// validFor is how long after now metadata.json's NextUpdate lies, so that a scan with
	// --skip-db-update does not call the DB stale for a year.
	validFor = 365 * 24 * time.Hour
)

// fixtureVuln is one vulnerability of the fixture package.
type fixtureVuln struct {
	id, fixedVersion, title string
	severity                types.Severity
}

var fixtureVulns = []fixtureVuln{
	{"CVE-2099-0001", "1.0.1-r0", "slipway-fixture-vuln: critical test vulnerability", types.SeverityCritical},
	{"CVE-2099-0002", "1.0.2-r0", "slipway-fixture-vuln: high test vulnerability", types.SeverityHigh},
}

func main() {
	if len(os.Args) != 2 || os.Args[1] == "" || os.Args[1][0] == '-' {
		fmt.Fprintln(os.Stderr, "usage: trivydb-fixture <dir>\n\nwrites <dir>/trivy.db and <dir>/metadata.json, a Trivy DB for tests")
		os.Exit(2)
	}
	if err := write(os.Args[1], time.Now().UTC()); err != nil {
		fmt.Fprintf(os.Stderr, "trivydb-fixture: %v\n", err)
		os.Exit(1)
	}
}

// write builds the fixture DB in dir, replacing a trivy.db already there, and stamps metadata.json
// with now.
func write(dir string, now time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Remove(db.Path(dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("replacing %s: %w", db.Path(dir), err)
	}
	if err := db.Init(dir); err != nil {
		return fmt.Errorf("opening %s: %w", db.Path(dir), err)
	}
	err := fill(db.Config{})
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing %s: %w", db.Path(dir), cerr)
	}
	if err != nil {
		return err
	}
	meta := metadata.Metadata{Version: db.SchemaVersion, UpdatedAt: now, NextUpdate: now.Add(validFor)}
	if err := metadata.NewClient(dir).Update(meta); err != nil {
		return fmt.Errorf("writing %s: %w", metadata.Path(dir), err)
	}
	return nil
}

// fill stores the fixture in the open DB in trivy-db's build order: sources, then optimize, then
// cleanup.
func fill(dbc db.Config) error {
	if err := putAlpineAdvisories(); err != nil {
		return err
	}
	err := dbc.BatchUpdate(func(tx *bolt.Tx) error {
		for _, v := range fixtureVulns {
			d := types.VulnerabilityDetail{ID: v.id, Title: v.title, Severity: v.severity,
				Description: "A vulnerability that exists only in slipway's test fixture DB."}
			if err := dbc.PutVulnerabilityDetail(tx, v.id, vulnerability.NVD, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing vulnerability details: %w", err)
	}
	if err := optimize(dbc); err != nil {
		return err
	}
	for _, del := range []func() error{dbc.DeleteVulnerabilityIDBucket, dbc.DeleteVulnerabilityDetailBucket, dbc.DeleteAdvisoryDetailBucket} {
		if err := del(); err != nil {
			return fmt.Errorf("cleaning up build buckets: %w", err)
		}
	}
	return nil
}

// putAlpineAdvisories runs trivy-db's Alpine source over one secdb-shaped advisory file, so the
// buckets are named and filled exactly as in the real DB.
func putAlpineAdvisories() error {
	tmp, err := os.MkdirTemp("", "trivydb-fixture-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	secfixes := map[string][]string{}
	for _, v := range fixtureVulns {
		secfixes[v.fixedVersion] = append(secfixes[v.fixedVersion], v.id)
	}
	adv, err := json.Marshal(map[string]any{
		"name":          fixturePackage,
		"distroversion": "v" + alpineRelease,
		"reponame":      "main",
		"secfixes":      secfixes,
	})
	if err != nil {
		return err
	}
	file := filepath.Join(tmp, "vuln-list", "alpine", alpineRelease, "main", fixturePackage+".json")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(file, adv, 0o644); err != nil {
		return err
	}
	if err := alpine.NewVulnSrc().Update(tmp); err != nil {
		return fmt.Errorf("storing Alpine advisories: %w", err)
	}
	return nil
}

// optimize is trivy-db's vulndb optimize step: it copies each advisory from "advisory-detail" into
// its platform bucket and merges the sources' details into the "vulnerability" bucket.
func optimize(dbc db.Config) error {
	vc := vulnerability.New(dbc)
	err := dbc.ForEachVulnerabilityID(func(tx *bolt.Tx, id string) error {
		if err := dbc.SaveAdvisoryDetails(tx, id); err != nil {
			return err
		}
		details := vc.GetDetails(id)
		if len(details) == 0 {
			return fmt.Errorf("%s has no details", id)
		}
		return dbc.PutVulnerability(tx, id, vc.Normalize(id, details))
	})
	if err != nil {
		return fmt.Errorf("optimizing: %w", err)
	}
	return nil
}
