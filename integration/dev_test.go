package integration

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/slipway-dev/slipway/localtemporal"
	"github.com/slipway-dev/slipway/payloadcodec"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/stack"
	"github.com/slipway-dev/slipway/workflows"
)

const canary = "canary-5f0e1d2c-secret-value-never-on-disk"

type configItem struct {
	Key    string  `json:"key"`
	Secret bool    `json:"secret"`
	Value  *string `json:"value"`
}

// TestDevStackKeepsEverythingAcrossRestart drives a real `slipway dev` over HTTP, the registry
// protocol and the Temporal API, stops it, starts it again on the same data dir and finds it all.
func TestDevStackKeepsEverythingAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, dir)
	a := newAPI(t, dev, dir)
	if second, err := stack.StartDev(context.Background(), devConfig(dir), slog.New(slog.DiscardHandler)); err == nil {
		_ = second.Stop(context.Background())
		t.Fatal("a second slipway dev started on a data dir in use")
	} else if !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second StartDev on the same data dir: %v, want an in-use error", err)
	}

	if got := httpStatus(t, dev.Endpoints.UI+"/"); got != http.StatusUnauthorized {
		t.Fatalf("Temporal UI / without a token = %d, want 401 (TestTemporalUIIsBehindSignIn signs in)", got)
	}
	if got := httpStatus(t, "http://"+dev.Endpoints.Registry+"/v2/"); got != http.StatusUnauthorized {
		t.Fatalf("registry /v2/ without credentials = %d, want 401", got)
	}
	if got := httpStatus(t, dev.Endpoints.HTTP+"/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz = %d", got)
	}
	if got := httpStatus(t, dev.Endpoints.Edge+"/"); got != http.StatusNotFound {
		t.Fatalf("the edge answers %d for a host that names no component, want 404", got)
	}
	noToken := api{t: t, base: a.base}
	noToken.call("POST", "/api/v1/projects", map[string]any{"name": "intruder"}, http.StatusUnauthorized, nil)

	a.call("POST", "/api/v1/projects", map[string]any{"name": "shop"}, http.StatusCreated, nil)
	a.call("POST", "/api/v1/projects/shop/environments", map[string]any{"name": "staging"}, http.StatusCreated, nil)
	a.call("PUT", "/api/v1/projects/shop/environments/order",
		map[string]any{"order": []string{"development", "staging", "production"}}, http.StatusOK, nil)
	a.call("POST", "/api/v1/projects/shop/components", map[string]any{
		"name": "api", "repo": "file:///srv/git/shop.git", "branch": "main", "autoBuild": true,
	}, http.StatusCreated, nil)
	cfgPath := "/api/v1/projects/shop/components/api/environments/staging/configs"
	a.call("PUT", cfgPath+"/LOG_LEVEL", map[string]any{"value": "debug"}, http.StatusCreated, nil)
	body := a.call("PUT", cfgPath+"/DB_PASSWORD", map[string]any{"value": canary, "secret": true}, http.StatusCreated, nil)
	if bytes.Contains(body, []byte(canary)) {
		t.Fatalf("PUT of a secret echoed its value: %s", body)
	}
	checkConfigs(t, a, cfgPath)

	digest := pushImage(t, dir, dev.Endpoints.Registry, "shop/api:0123abc")

	var rot struct {
		Active    string `json:"active"`
		Rewrapped int    `json:"rewrapped"`
	}
	a.call("POST", "/api/v1/keys/rotate", nil, http.StatusOK, &rot)
	if rot.Rewrapped != 3 { // the two configs and the webhook secret of the auto-built component's repository
		t.Fatalf("rotation re-wrapped %d values, want 3", rot.Rewrapped)
	}
	rotationID := workflows.RotateKeysWorkflowID(rot.Active)
	waitForWorkflow(t, dev.Temporal, rotationID)
	checkSearchAttributes(t, dev.Temporal)
	ns, err := dev.Temporal.WorkflowService().DescribeNamespace(context.Background(),
		&workflowservice.DescribeNamespaceRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ns.Config.WorkflowExecutionRetentionTtl.AsDuration(); got != localtemporal.NamespaceRetention {
		t.Fatalf("namespace retention %s, want %s", got, localtemporal.NamespaceRetention)
	}
	if os.Getenv("SLIPWAY_RECORD_HISTORIES") != "" {
		recordHistory(t, dev.Temporal, dev.Keys, rotationID, "../workflows/testdata/rotate_keys.json")
	}
	token := a.token

	if took := stopDev(t, dev); took > 10*time.Second {
		t.Fatalf("stopping took %s, want ≤ 10s", took)
	}
	checkCanaryAbsent(t, dir)

	dev = startDev(t, dir)
	defer stopDev(t, dev)
	a = newAPI(t, dev, dir)
	if a.token != token {
		t.Fatal("restart replaced the admin token")
	}
	var envs struct {
		Items []struct{ Name string } `json:"items"`
	}
	a.call("GET", "/api/v1/projects/shop/environments", nil, http.StatusOK, &envs)
	var order []string
	for _, e := range envs.Items {
		order = append(order, e.Name)
	}
	if strings.Join(order, ",") != "development,staging,production" {
		t.Fatalf("environments after restart = %v", order)
	}
	var comp struct {
		Repo      string `json:"repo"`
		AutoBuild bool   `json:"autoBuild"`
	}
	a.call("GET", "/api/v1/projects/shop/components/api", nil, http.StatusOK, &comp)
	if comp.Repo != "file:///srv/git/shop.git" || !comp.AutoBuild {
		t.Fatalf("component after restart = %+v", comp)
	}
	checkConfigs(t, a, cfgPath)
	pullImage(t, dir, dev.Endpoints.Registry, "shop/api@"+digest.String(), digest)
	pullImage(t, dir, dev.Endpoints.Registry, "shop/api:0123abc", digest)
	waitForWorkflow(t, dev.Temporal, rotationID)

	a.call("POST", "/api/v1/keys/rotate", nil, http.StatusOK, &rot)
	if rot.Rewrapped != 3 {
		t.Fatalf("second rotation re-wrapped %d values, want 3", rot.Rewrapped)
	}
	checkConfigs(t, a, cfgPath)
}

// checkConfigs asserts the non-secret value is listed and the secret's is not.
func checkConfigs(t *testing.T, a api, path string) {
	t.Helper()
	var list struct {
		Items []configItem `json:"items"`
	}
	body := a.call("GET", path, nil, http.StatusOK, &list)
	if bytes.Contains(body, []byte(canary)) {
		t.Fatalf("config list shows the secret value: %s", body)
	}
	got := map[string]configItem{}
	for _, it := range list.Items {
		got[it.Key] = it
	}
	if v := got["LOG_LEVEL"].Value; v == nil || *v != "debug" {
		t.Fatalf("LOG_LEVEL = %v, want debug (list %s)", v, body)
	}
	if s := got["DB_PASSWORD"]; !s.Secret || s.Value != nil {
		t.Fatalf("DB_PASSWORD listed as %+v, want a secret without value", s)
	}
}

func pushImage(t *testing.T, data, registry, ref string) v1.Hash {
	t.Helper()
	img, err := random.Image(4096, 2)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(registry + "/" + ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err == nil {
		t.Fatalf("pushing %s without the push credentials succeeded", r)
	}
	if err := remote.Write(r, img, pushAuth(t, data, registry)); err != nil {
		t.Fatalf("pushing %s: %v", r, err)
	}
	d, _ := img.Digest()
	return d
}

func pullImage(t *testing.T, data, registry, ref string, want v1.Hash) {
	t.Helper()
	r, err := name.ParseReference(registry + "/" + ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r, pushAuth(t, data, registry))
	if err != nil {
		t.Fatalf("pulling %s: %v", r, err)
	}
	if d, _ := img.Digest(); d != want {
		t.Fatalf("%s has digest %s, want %s", r, d, want)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatalf("layer of %s: %v", r, err)
		}
		rc.Close()
	}
}

// waitForWorkflow polls visibility until the workflow is listed as completed.
func waitForWorkflow(t *testing.T, c client.Client, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowId = %q", id),
		})
		if err == nil && len(resp.Executions) == 1 &&
			resp.Executions[0].Status == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("workflow %s not listed as completed: %v %v", id, resp, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func checkSearchAttributes(t *testing.T, c client.Client) {
	t.Helper()
	resp, err := c.OperatorService().ListSearchAttributes(context.Background(),
		&operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	for _, sa := range workflows.SearchAttributes() {
		if typ := resp.CustomAttributes[sa]; typ != enums.INDEXED_VALUE_TYPE_KEYWORD {
			t.Errorf("search attribute %s has type %v, want keyword", sa, typ)
		}
	}
}

func recordHistory(t *testing.T, c client.Client, keys *secretbox.Keyring, id, path string) {
	t.Helper()
	iter := c.GetWorkflowHistory(context.Background(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	hist := &historypb.History{}
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, e)
	}
	// Temporal holds every payload encrypted; the history is written decrypted, as the replay tests read it
	// and as the checks of what it holds need it.
	checkEncrypted(t, hist)
	codec := payloadcodec.Codec{Keys: keys}
	if err := proxy.VisitPayloads(context.Background(), hist, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return codec.Decode(ps)
		},
	}); err != nil {
		t.Fatalf("decrypting the history of %s: %v", id, err)
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(hist)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkEncrypted fails unless every payload of hist but its search attributes is encrypted (payloadcodec), and
// finds at least one: the workflow's input.
func checkEncrypted(t *testing.T, hist *historypb.History) {
	t.Helper()
	seen := 0
	if err := proxy.VisitPayloads(context.Background(), hist, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			for _, p := range ps {
				seen++
				if enc := string(p.GetMetadata()[payloadcodec.MetadataEncoding]); enc != payloadcodec.EncodingEncrypted {
					t.Errorf("a payload in Temporal's history is %q, not encrypted: %.80q", enc, p.GetData())
				}
			}
			return ps, nil
		},
	}); err != nil {
		t.Fatal(err)
	}
	if seen == 0 {
		t.Error("the history holds no payload")
	}
}

// checkCanaryAbsent reads every file the stopped stack left in dir (databases, WAL files, the
// registry, the key file) and fails if the secret's plaintext is in any. To show the check can
// see what is written, the project name, stored in the clear, must be found.
func checkCanaryAbsent(t *testing.T, dir string) {
	t.Helper()
	sawProject := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(canary)) {
			t.Errorf("secret plaintext found in %s", path)
		}
		if strings.HasPrefix(filepath.Base(path), "slipway.db") && bytes.Contains(b, []byte("shop")) {
			sawProject = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sawProject {
		t.Fatal("project name not found in the metadata files: the canary scan reads the wrong files")
	}
}
