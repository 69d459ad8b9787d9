package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/slipway-dev/slipway/payloadcodec"
)

// TestTemporalUIIsBehindSignIn finds `slipway dev`'s Temporal UI closed to callers without a slipway token, open
// to reading for a viewer, who is told write actions are off and refused one, and open to acting for an admin,
// whose terminate reaches Temporal.
func TestTemporalUIIsBehindSignIn(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	dev := startDev(t, data)
	a := newAPI(t, dev, data)
	var viewer struct{ Token string }
	a.call("POST", "/api/v1/tokens", map[string]any{"name": "watcher", "role": "viewer"}, http.StatusCreated, &viewer)

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	ui := dev.Endpoints.UI
	send := func(method, path, token string, csrf bool) (int, string, http.Header) {
		t.Helper()
		req, err := http.NewRequest(method, ui+path, strings.NewReader(`{"reason":"test"}`))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.SetBasicAuth("anyone", token)
		}
		if csrf {
			for _, ck := range jar.Cookies(req.URL) {
				if ck.Name == "_csrf" {
					req.Header.Set("X-CSRF-Token", ck.Value)
				}
			}
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body), res.Header
	}

	if code, _, h := send("GET", "/", "", false); code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("GET / without a token: %d, WWW-Authenticate %q; want 401 with a Basic challenge", code, h.Get("WWW-Authenticate"))
	}
	if code, _, _ := send("GET", "/", "slw_not-a-token", false); code != http.StatusUnauthorized {
		t.Errorf("GET / with a wrong token: %d, want 401", code)
	}
	if code, _, _ := send("GET", "/api/v1/namespaces/default/workflows", "", false); code != http.StatusUnauthorized {
		t.Errorf("the UI's API without a token: %d, want 401", code)
	}

	writesOff := func(token string) bool {
		t.Helper()
		code, body, _ := send("GET", "/api/v1/settings", token, false)
		var s struct{ DisableWriteActions bool }
		if code != http.StatusOK || json.Unmarshal([]byte(body), &s) != nil {
			t.Fatalf("settings: %d %s", code, body)
		}
		return s.DisableWriteActions
	}
	terminate := "/api/v1/namespaces/default/workflows/no-such-workflow/terminate"

	if code, _, _ := send("GET", "/", viewer.Token, false); code != http.StatusOK {
		t.Errorf("viewer GET /: %d, want 200", code)
	}
	if code, body, _ := send("GET", "/api/v1/namespaces/default/workflows", viewer.Token, false); code != http.StatusOK {
		t.Errorf("viewer lists workflows: %d %s, want 200", code, body)
	}
	if !writesOff(viewer.Token) {
		t.Error("the UI was told a viewer may write")
	}
	if code, body, _ := send("POST", terminate, viewer.Token, true); code != http.StatusForbidden || !strings.Contains(body, "viewer") {
		t.Errorf("viewer terminates: %d %s, want 403 naming the role", code, body)
	}

	if writesOff(a.token) {
		t.Error("the UI was told an admin may not write")
	}
	// Terminating a workflow that does not exist reaches Temporal, which answers that it is not there.
	if code, body, _ := send("POST", terminate, a.token, true); code == http.StatusForbidden || code == http.StatusUnauthorized || !strings.Contains(strings.ToLower(body), "not found") {
		t.Errorf("admin terminates: %d %s, want Temporal's not-found", code, body)
	}
	// The UI decodes payloads through slipway's codec on its own origin, with the browser's sign-in: a viewer
	// reads what a workflow was given, in the clear.
	code, body, _ := send("GET", "/api/v1/settings", viewer.Token, false)
	var settings struct{ Codec struct{ Endpoint string } }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &settings) != nil || settings.Codec.Endpoint != "/slipway-codec" {
		t.Errorf("the UI's codec endpoint: %d %s, want /slipway-codec", code, body)
	}
	enc, err := payloadcodec.DataConverter(dev.Keys).ToPayloads("shop/api at c0ffee")
	if err != nil {
		t.Fatal(err)
	}
	reqBody, _ := protojson.Marshal(enc)
	req, _ := http.NewRequest("POST", ui+settings.Codec.Endpoint+"/decode", bytes.NewReader(reqBody))
	req.SetBasicAuth("anyone", viewer.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	decoded, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var dec commonpb.Payloads
	if res.StatusCode != http.StatusOK || protojson.Unmarshal(decoded, &dec) != nil || len(dec.Payloads) != 1 ||
		string(dec.Payloads[0].Data) != `"shop/api at c0ffee"` {
		t.Errorf("a viewer decodes through the UI: %d %s", res.StatusCode, decoded)
	}

	req, _ = http.NewRequest("GET", ui+"/api/v1/settings", nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("bearer token: %v %v, want 200", res, err)
	} else {
		res.Body.Close()
	}
}
