package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/descriptor"
)

// PutBuildSpec keeps the build's component descriptor and its endpoints' API specs, replacing what an
// earlier attempt stored. It fails with ErrNotFound when the build does not exist and with ErrInvalid when
// it has finished.
func (s *Store) PutBuildSpec(ctx context.Context, id string, d descriptor.Descriptor, specs []descriptor.Spec) error {
	desc, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encoding the descriptor of %s: %w", buildRef(id), err)
	}
	return s.inTx(ctx, func(c conn) error {
		b, err := changeableBuild(ctx, c, id)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, "DELETE FROM build_specs WHERE build_id = ?", id); err != nil {
			return fmt.Errorf("replacing the specs of %s: %w", buildRef(id), err)
		}
		for _, sp := range specs {
			body := []byte(sp.JSON)
			if body == nil {
				body = sp.Raw
			}
			if body == nil {
				body = []byte{}
			}
			if _, err := c.exec(ctx, "INSERT INTO build_specs (build_id, endpoint, path, format, body) VALUES (?, ?, ?, ?, ?)",
				id, sp.Endpoint, sp.Path, sp.Format, body); err != nil {
				if isUniqueViolation(err) {
					return invalid("%s: endpoint %q has two specs", buildRef(id), sp.Endpoint)
				}
				return fmt.Errorf("storing the spec of endpoint %q of %s: %w", sp.Endpoint, buildRef(id), err)
			}
		}
		if _, err := c.exec(ctx, "UPDATE builds SET descriptor = ? WHERE id = ?", string(desc), id); err != nil {
			return fmt.Errorf("storing the descriptor of %s: %w", buildRef(id), err)
		}
		return appendEvent(ctx, c, buildEvent(b))
	})
}

// GetBuildSpec returns the API spec of one endpoint of the build. It fails with ErrNotFound when the build
// does not exist or the endpoint has no spec.
func (s *Store) GetBuildSpec(ctx context.Context, id, endpoint string) (descriptor.Spec, error) {
	c := s.db()
	if _, err := getBuild(ctx, c, id, lockNone); err != nil {
		return descriptor.Spec{}, err
	}
	sp := descriptor.Spec{Endpoint: endpoint}
	var body []byte
	err := c.queryRow(ctx, "SELECT path, format, body FROM build_specs WHERE build_id = ? AND endpoint = ?", id, endpoint).
		Scan(&sp.Path, &sp.Format, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return descriptor.Spec{}, notFound(fmt.Sprintf("spec of endpoint %q of %s", endpoint, buildRef(id)))
	}
	if err != nil {
		return descriptor.Spec{}, fmt.Errorf("reading the spec of endpoint %q of %s: %w", endpoint, buildRef(id), err)
	}
	if sp.Format == descriptor.OpenAPI3 || sp.Format == descriptor.Swagger2 {
		sp.JSON = body
	} else {
		sp.Raw = body
	}
	return sp, nil
}

// PutBuildSource records how the build, which must not have ended, was built from source; putting it again
// replaces it.
func (s *Store) PutBuildSource(ctx context.Context, id string, src api.SourceBuild) error {
	data, err := json.Marshal(src)
	if err != nil {
		return fmt.Errorf("encoding the source build of %s: %w", buildRef(id), err)
	}
	return s.inTx(ctx, func(c conn) error {
		if _, err := changeableBuild(ctx, c, id); err != nil {
			return err
		}
		if _, err := c.exec(ctx, "UPDATE builds SET source = ? WHERE id = ?", string(data), id); err != nil {
			return fmt.Errorf("storing the source build of %s: %w", buildRef(id), err)
		}
		return nil
	})
}

// PutBuildCommitTime records when the build's commit was committed (its committer time), for a build that has
// not ended; putting it again replaces it. It fails with ErrNotFound when the build does not exist and ErrInvalid
// when it has ended.
func (s *Store) PutBuildCommitTime(ctx context.Context, id string, at time.Time) error {
	return s.inTx(ctx, func(c conn) error {
		if _, err := changeableBuild(ctx, c, id); err != nil {
			return err
		}
		if _, err := c.exec(ctx, "UPDATE builds SET committed_at = ? WHERE id = ?", toDB(normalize(at)), id); err != nil {
			return fmt.Errorf("storing the commit time of %s: %w", buildRef(id), err)
		}
		return nil
	})
}
