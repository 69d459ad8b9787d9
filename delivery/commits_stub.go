package delivery

import (
	"context"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/store"
)

// Commits TEMPORARY stub.
func (s *Builds) Commits(ctx context.Context, comp store.Component, limit int) ([]api.Commit, error) {
	return []api.Commit{{SHA: "0123456789abcdef0123456789abcdef01234567", Short: "0123456", Title: "stub", Author: "me"}}, nil
}
