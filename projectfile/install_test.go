package projectfile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/secretbox"
	"github.com/slipway-dev/slipway/server"
	"github.com/slipway-dev/slipway/store"
)

// install is a real slipway API (server.New over a SQLite store and a keyring in t.TempDir()) behind an
// httptest server, with a client per role.
type install struct {
	admin, developer *testClient
}

// newInstall starts an install for t.
func newInstall(t *testing.T) *install {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "s.db"))
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("closing store: %v", err)
		}
	})
	keys, err := secretbox.LoadOrCreateKeyring(filepath.Join(dir, "keys", "keyring.json"))
	if err != nil {
		t.Fatalf("creating keyring: %v", err)
	}
	srv := server.New(server.Deps{Store: st, Keys: keys, Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	t.Cleanup(srv.EndStreams)
	token := func(name, role string) *testClient {
		secret, tok, err := server.MintToken(name, role)
		if err != nil {
			t.Fatalf("MintToken: %v", err)
		}
		if err := st.CreateToken(ctx, tok); err != nil {
			t.Fatalf("creating token %s: %v", name, err)
		}
		return &testClient{base: ts.URL, token: secret, http: ts.Client()}
	}
	return &install{admin: token("root", server.RoleAdmin), developer: token("dev", server.RoleDeveloper)}
}

// testClient is a projectfile.Client over net/http with a bearer token; it counts the calls that write.
type testClient struct {
	base, token string
	http        *http.Client
	writes      int
}

// Do sends one API call.
func (c *testClient) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encoding %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet {
		c.writes++
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: reading answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e api.ErrorBody
		if err := json.Unmarshal(data, &e); err != nil {
			return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, data)
		}
		return &apiError{status: resp.StatusCode, body: e.Error}
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decoding answer: %w", method, path, err)
	}
	return nil
}

// must calls the API and fails the test on an error.
func (c *testClient) must(t *testing.T, method, path string, body, out any) {
	t.Helper()
	if err := c.Do(context.Background(), method, path, body, out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

// apiError is an error answer of the API.
type apiError struct {
	status int
	body   api.Error
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (%s, HTTP %d)", e.body.Message, e.body.Code, e.status)
}

// HTTPStatus is the answer's status.
func (e *apiError) HTTPStatus() int { return e.status }

// APIField is the field the answer names.
func (e *apiError) APIField() string { return e.body.Field }
