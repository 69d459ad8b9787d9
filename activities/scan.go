package activities

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/scan"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/trivyscan"
	"github.com/slipway-dev/slipway/workflows"
)

// Stable types of the scan activity's non-retryable errors.
const (
	// ErrTypeScanPolicy means the scan found what the project's policy does not let through: the
	// image is not pushed (or, at a re-scan, not promoted). The message names the findings.
	ErrTypeScanPolicy = "ScanPolicyViolation"
	// ErrTypeUnscannable means the scanner cannot read the image the build made.
	ErrTypeUnscannable = "ImageUnscannable"
)

// ImageScanner scans an image's OCI layout (trivyscan.Scanner).
type ImageScanner interface {
	Scan(ctx context.Context, req trivyscan.Request) (scan.Report, error)
}

// ignoreFiles are the files at the repository's root whose rules leave findings out of a scan.
var ignoreFiles = []string{".trivyignore", ".trivyignore.yaml"}

// maxNamedViolations is how many blocking findings a failed scan's error names; the report has all.
const maxNamedViolations = 10

// ScanImage scans the image the build left in the workspace, keeps the report with the build and
// fails, non-retryably, when the policy blocks a finding, so the image is never pushed. It
// heartbeats while Trivy runs; cancelling it stops Trivy.
func (b *Builds) ScanImage(ctx context.Context, in workflows.ScanImageInput) (workflows.ScanImageResult, error) {
	if b.Scanner == nil {
		return workflows.ScanImageResult{}, errors.New("this worker has no image scanner")
	}
	ignore, err := ignoreFile(filepath.Join(in.Workspace, "src"))
	if err != nil {
		return workflows.ScanImageResult{}, err
	}
	logs := b.newLogSink(ctx, in.BuildID)
	logs.add("scanning " + in.Digest)
	if ignore != "" {
		logs.add("ignoring the findings listed in " + filepath.Base(ignore))
	}
	stop := heartbeatEvery(heartbeatInterval, func() { activity.RecordHeartbeat(ctx, "scanning "+in.Digest) })
	report, err := b.Scanner.Scan(ctx, trivyscan.Request{Layout: in.Layout, Digest: in.Digest, IgnoreFile: ignore, Log: logs.add})
	stop()
	if err != nil {
		logs.add("ERROR: scanning: " + err.Error())
		logs.close()
		if errors.Is(err, trivyscan.ErrLayout) {
			return workflows.ScanImageResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeUnscannable, err)
		}
		return workflows.ScanImageResult{}, fmt.Errorf("scanning: %w", err)
	}
	violations := in.Policy.Violations(report)
	sum := report.Summarize(len(violations) == 0)
	for _, l := range scanLines(report, sum, violations, time.Now()) {
		logs.add(l)
	}
	logs.close()
	if err := b.Store.PutBuildScan(ctx, in.BuildID, report, sum); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return workflows.ScanImageResult{}, temporal.NewNonRetryableApplicationError("storing the scan of build "+in.BuildID, ErrTypeBuildNotFound, err)
		}
		return workflows.ScanImageResult{}, fmt.Errorf("storing the scan report: %w", err)
	}
	if err := policyBlocks(violations); err != nil {
		return workflows.ScanImageResult{}, err
	}
	return workflows.ScanImageResult{Summary: sum}, nil
}

// policyBlocks is the error of a scan whose policy found violations: non-retryable, of type
// ErrTypeScanPolicy, naming the first maxNamedViolations of them. Nil when there are none.
func policyBlocks(violations []string) error {
	if len(violations) == 0 {
		return nil
	}
	named := violations[:min(len(violations), maxNamedViolations)]
	msg := "the scan policy blocks this image: " + strings.Join(named, "; ")
	if more := len(violations) - len(named); more > 0 {
		msg += fmt.Sprintf("; and %d more (see the scan report)", more)
	}
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeScanPolicy, nil)
}

// ignoreFile returns the first ignore file at the repository's root; "" means none. A symlink is
// refused: the rules must come from the repository itself.
func ignoreFile(src string) (string, error) {
	for _, name := range ignoreFiles {
		path := filepath.Join(src, name)
		fi, err := os.Lstat(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", name, err)
		}
		if !fi.Mode().IsRegular() {
			return "", temporal.NewNonRetryableApplicationError(name+" is not a regular file", ErrTypeBadPath, nil)
		}
		return path, nil
	}
	return "", nil
}

// scanLines are the build log's account of a scan: what ran, with which vulnerability database
// (its source, and its age now), what did not run and why, what was found.
func scanLines(r scan.Report, sum scan.Summary, violations []string, now time.Time) []string {
	cached := ""
	if r.Cached {
		cached = " (cached report)"
	}
	lines := []string{fmt.Sprintf("scanned with %s: %s%s", r.Scanner, strings.Join(r.Scanned, ", "), cached)}
	if r.VulnDB != nil {
		lines = append(lines, "vulnerability database: "+r.VulnDB.Describe(now))
	}
	for _, n := range r.NotScanned {
		lines = append(lines, fmt.Sprintf("NOT scanned: %s: %s", n.Scanner, n.Reason))
	}
	v := sum.Vulnerabilities
	lines = append(lines, fmt.Sprintf("found: %d critical, %d high, %d medium, %d low, %d unknown vulnerabilities; %d secrets; %d misconfigurations",
		v.Critical, v.High, v.Medium, v.Low, v.Unknown, sum.Secrets, sum.Misconfigurations))
	for _, s := range violations {
		lines = append(lines, "BLOCKED: "+s)
	}
	return lines
}
