package activities

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/imagepush"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/trivyscan"
	"github.com/slipway-dev/slipway/workflows"
)

// ErrTypePromotionNotFound means the promotion request to re-scan, or its project, is not in the store.
const ErrTypePromotionNotFound = "PromotionNotFound"

// rescanDirPrefix names the temporary layouts of re-scans in WorkDir (workspaces are build IDs, "b-…").
const rescanDirPrefix = "rescan-"

// RescanPromotion re-scans the digest of a promotion request into production against the current
// vulnerability database and the project's scan policy as it is now: it fetches the image from the
// registry the build pushed it to into a temporary layout in WorkDir (removed afterwards), scans it,
// keeps the report with the request and fails, non-retryably with ErrTypeScanPolicy, when the policy
// blocks a finding. An image that cannot be fetched is a retryable error naming the digest. It
// heartbeats while it fetches and scans; cancelling it stops both.
//
// It runs in no session and needs none of the build's workspace: the repository is not checked out,
// so no ignore file applies (a finding the build's .trivyignore left out blocks the promotion if the
// policy blocks it).
func (b *Builds) RescanPromotion(ctx context.Context, in workflows.RescanPromotionInput) error {
	if b.Scanner == nil {
		return errors.New("this worker has no image scanner")
	}
	if b.Pusher == nil || b.Registry == "" {
		return errors.New("this worker does not know the registry the builds' images are in")
	}
	p, err := b.Store.GetPromotion(ctx, in.ID)
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypePromotionNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("reading the promotion request: %w", err)
	}
	project, err := b.Store.GetProject(ctx, p.Project)
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypePromotionNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("reading the scan policy: %w", err)
	}

	if err := os.MkdirAll(b.WorkDir, 0o700); err != nil {
		return fmt.Errorf("making the work dir: %w", err)
	}
	tmp, err := os.MkdirTemp(b.WorkDir, rescanDirPrefix)
	if err != nil {
		return fmt.Errorf("making the re-scan's layout dir: %w", err)
	}
	defer os.RemoveAll(tmp)

	var doing atomic.Pointer[string]
	doing.Store(new("fetching " + p.Digest))
	stop := heartbeatEvery(heartbeatInterval, func() { activity.RecordHeartbeat(ctx, *doing.Load()) })
	defer stop()
	layout := filepath.Join(tmp, "image")
	repository := b.Registry + "/" + p.Project + "/" + p.Component // where the build pushed it (delivery names it so)
	if _, err := b.Pusher.Fetch(ctx, repository, p.Digest, layout); err != nil {
		if typ, _ := imagepush.Classify(err); typ == imagepush.ErrTypeInvalidReference {
			return temporal.NewNonRetryableApplicationError(err.Error(), typ, err)
		}
		return err // it names the image by digest, never the credentials; retried, whatever the registry said
	}
	doing.Store(new("scanning " + p.Digest))
	report, err := b.Scanner.Scan(ctx, trivyscan.Request{Layout: layout, Digest: p.Digest})
	stop()
	if err != nil {
		if errors.Is(err, trivyscan.ErrLayout) {
			return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeUnscannable, err)
		}
		return fmt.Errorf("scanning %s: %w", p.Digest, err)
	}
	violations := project.ScanPolicy.Violations(report)
	sum := report.Summarize(len(violations) == 0)
	if err := b.Store.PutPromotionScan(ctx, p.ID, report, sum); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypePromotionNotFound, err)
		}
		return fmt.Errorf("storing the re-scan report: %w", err)
	}
	return policyBlocks(violations)
}
