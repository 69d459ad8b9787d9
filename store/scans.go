package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slipway-dev/slipway/scan"
)

// PutBuildScan keeps the build's scan report and its summary, replacing an earlier one (a retried
// scan). It fails with ErrNotFound when the build does not exist and with ErrInvalid when it has finished.
func (s *Store) PutBuildScan(ctx context.Context, id string, r scan.Report, sum scan.Summary) error {
	report, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding the scan report of %s: %w", buildRef(id), err)
	}
	summary, err := json.Marshal(sum)
	if err != nil {
		return fmt.Errorf("encoding the scan summary of %s: %w", buildRef(id), err)
	}
	return s.inTx(ctx, func(c conn) error {
		b, err := changeableBuild(ctx, c, id)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, "DELETE FROM build_scans WHERE build_id = ?", id); err != nil {
			return fmt.Errorf("replacing the scan report of %s: %w", buildRef(id), err)
		}
		if _, err := c.exec(ctx, "INSERT INTO build_scans (build_id, report) VALUES (?, ?)", id, string(report)); err != nil {
			return fmt.Errorf("storing the scan report of %s: %w", buildRef(id), err)
		}
		if _, err := c.exec(ctx, "UPDATE builds SET scan = ? WHERE id = ?", string(summary), id); err != nil {
			return fmt.Errorf("storing the scan summary of %s: %w", buildRef(id), err)
		}
		return appendEvent(ctx, c, buildEvent(b))
	})
}

// GetBuildScan returns the build's scan report. It fails with ErrNotFound when the build does not exist or has
// not been scanned.
func (s *Store) GetBuildScan(ctx context.Context, id string) (scan.Report, error) {
	c := s.db()
	if _, err := getBuild(ctx, c, id, lockNone); err != nil {
		return scan.Report{}, err
	}
	var report string
	err := c.queryRow(ctx, "SELECT report FROM build_scans WHERE build_id = ?", id).Scan(&report)
	if errors.Is(err, sql.ErrNoRows) {
		return scan.Report{}, notFound("scan report of " + buildRef(id))
	}
	if err != nil {
		return scan.Report{}, fmt.Errorf("reading the scan report of %s: %w", buildRef(id), err)
	}
	var r scan.Report
	if err := json.Unmarshal([]byte(report), &r); err != nil {
		return scan.Report{}, fmt.Errorf("decoding the scan report of %s: %w", buildRef(id), err)
	}
	return r, nil
}
