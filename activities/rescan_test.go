package activities

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"go.temporal.io/sdk/temporal"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/imagepush"
	"github.com/slipway-dev/slipway/scan"
	"github.com/slipway-dev/slipway/store"
	"github.com/slipway-dev/slipway/trivyscan"
	"github.com/slipway-dev/slipway/trivyscan/trivytest"
	"github.com/slipway-dev/slipway/workflows"
)

// fakeScanner answers every scan with report, after checking that the layout it is given holds the
// image asked for; it records the requests.
type fakeScanner struct {
	report scan.Report

	mu   sync.Mutex
	reqs []trivyscan.Request
}

func (f *fakeScanner) Scan(_ context.Context, req trivyscan.Request) (scan.Report, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	lp, err := layout.FromPath(req.Layout)
	if err != nil {
		return scan.Report{}, err
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		return scan.Report{}, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return scan.Report{}, err
	}
	if len(m.Manifests) != 1 || m.Manifests[0].Digest.String() != req.Digest {
		return scan.Report{}, errors.New("the layout does not hold the image asked for")
	}
	if _, err := idx.Image(m.Manifests[0].Digest); err != nil {
		return scan.Report{}, err
	}
	r := f.report
	r.Digest = req.Digest
	return r, nil
}

func (f *fakeScanner) requests() []trivyscan.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]trivyscan.Request(nil), f.reqs...)
}

// highCVE is the one finding of the fake scanner's report: HIGH, which the default policy lets through.
const highCVE = "CVE-2099-0002"

// rescanFixture is build activities on a real store holding build b1 of shop/api pushed to an
// in-process registry, and promotion request p1 of it into development; the scanner is fake.
func rescanFixture(t *testing.T) (*Builds, *store.Store, *fakeScanner, string) {
	t.Helper()
	b, st := buildsWithStore(t)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	b.Registry = strings.TrimPrefix(srv.URL, "http://")
	b.Pusher = imagepush.New()
	dir, _ := trivytest.Layout(t, trivytest.Image(t, trivytest.CleanFiles))
	pushed, err := b.Pusher.Push(context.Background(), dir, b.Registry+"/shop/api", nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := &fakeScanner{report: scan.Report{Scanner: "fake", Scanned: []string{scan.ScannerVuln, scan.ScannerSecret},
		Vulnerabilities: []scan.Vulnerability{{ID: highCVE, Package: "libfixture", Installed: "1.0", Fixed: "1.1", Severity: scan.SeverityHigh}}}}
	b.Scanner = sc
	if _, err := st.CreatePromotion(context.Background(), store.Promotion{ID: "p1", Project: "shop", Component: "api",
		Environment: "development", BuildID: "b1", Digest: pushed.Digest, Status: api.PromotionQueued}); err != nil {
		t.Fatal(err)
	}
	return b, st, sc, pushed.Digest
}

// wantWorkDirEmpty fails when a re-scan left its layout behind.
func wantWorkDirEmpty(t *testing.T, b *Builds) {
	t.Helper()
	entries, err := os.ReadDir(b.WorkDir)
	if err != nil || len(entries) != 0 {
		t.Fatalf("work dir holds %v (%v) after the re-scan", entries, err)
	}
}

func TestRescanPromotionPassesAndKeepsTheReport(t *testing.T) {
	b, st, sc, digest := rescanFixture(t)
	if err := run(t, b, b.RescanPromotion, workflows.RescanPromotionInput{ID: "p1"}, nil); err != nil {
		t.Fatalf("RescanPromotion: %v", err)
	}
	reqs := sc.requests()
	if len(reqs) != 1 || reqs[0].Digest != digest || reqs[0].IgnoreFile != "" ||
		!strings.HasPrefix(reqs[0].Layout, filepath.Join(b.WorkDir, rescanDirPrefix)) {
		t.Fatalf("scan requests %+v, want one of %s in a layout in the work dir", reqs, digest)
	}
	wantWorkDirEmpty(t, b)
	p, err := st.GetPromotion(context.Background(), "p1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Rescan == nil || !p.Rescan.Passed || p.Rescan.Vulnerabilities.High != 1 {
		t.Fatalf("summary on the request: %+v", p.Rescan)
	}
	r, err := st.GetPromotionScan(context.Background(), "p1")
	if err != nil || r.Digest != digest || len(r.Vulnerabilities) != 1 || r.Vulnerabilities[0].ID != highCVE {
		t.Fatalf("stored report %+v, %v", r, err)
	}
}

func TestRescanPromotionBlocksByTheProjectsPolicyNow(t *testing.T) {
	b, st, _, _ := rescanFixture(t)
	// The policy changed since the build: HIGH blocks now.
	if _, err := st.UpdateProject(context.Background(), "shop", func(p *store.Project) error {
		p.ScanPolicy = scan.Policy{FailOn: scan.SeverityHigh}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	err := run(t, b, b.RescanPromotion, workflows.RescanPromotionInput{ID: "p1"}, nil)
	wantNonRetryable(t, err, ErrTypeScanPolicy)
	if want := "the scan policy blocks this image: HIGH " + highCVE + " in libfixture 1.0 (fixed in 1.1)"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v does not say %q", err, want)
	}
	wantWorkDirEmpty(t, b)
	p, err := st.GetPromotion(context.Background(), "p1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Rescan == nil || p.Rescan.Passed || p.Rescan.Vulnerabilities.High != 1 {
		t.Fatalf("summary on the request: %+v", p.Rescan)
	}
}

func TestRescanPromotionOfAnUnfetchableImageIsRetried(t *testing.T) {
	b, st, sc, _ := rescanFixture(t)
	missing := "sha256:" + strings.Repeat("0", 64)
	if _, err := st.CreatePromotion(context.Background(), store.Promotion{ID: "p2", Project: "shop", Component: "api",
		Environment: "development", BuildID: "b1", Digest: missing, Status: api.PromotionQueued}); err != nil {
		t.Fatal(err)
	}
	err := run(t, b, b.RescanPromotion, workflows.RescanPromotionInput{ID: "p2"}, nil)
	var appErr *temporal.ApplicationError
	if err == nil || (errors.As(err, &appErr) && appErr.NonRetryable()) {
		t.Fatalf("error = %v, want a retryable one", err)
	}
	if !strings.Contains(err.Error(), missing) {
		t.Fatalf("error %v does not name the digest", err)
	}
	if len(sc.requests()) != 0 {
		t.Fatal("scanned an image that could not be fetched")
	}
	wantWorkDirEmpty(t, b)
	if p, err := st.GetPromotion(context.Background(), "p2"); err != nil || p.Rescan != nil {
		t.Fatalf("request %+v, %v: want no re-scan recorded", p, err)
	}
}

func TestRescanPromotionOfAMissingRequestIsNotRetried(t *testing.T) {
	b, _, _, _ := rescanFixture(t)
	err := run(t, b, b.RescanPromotion, workflows.RescanPromotionInput{ID: "nope"}, nil)
	wantNonRetryable(t, err, ErrTypePromotionNotFound)
}
