package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/stack"
)

// apiClient calls the slipway API with a bearer token.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

// clientFlags adds --server, --token and --data-dir to fs; connect resolves them.
type clientFlags struct {
	server, token, dataDir string
}

func addClientFlags(fs *flag.FlagSet) *clientFlags {
	f := &clientFlags{}
	fs.StringVar(&f.server, "server", "", "API base URL (default: the http entry of <data-dir>/endpoints.json)")
	fs.StringVar(&f.token, "token", "", "API token (default: the contents of <data-dir>/admin-token)")
	fs.StringVar(&f.dataDir, "data-dir", ".slipway", "data dir of a local slipway dev")
	return f
}

func (f *clientFlags) connect() (*apiClient, error) {
	server := f.server
	if server == "" {
		b, err := os.ReadFile(filepath.Join(f.dataDir, stack.EndpointsFile))
		if err != nil {
			return nil, fmt.Errorf("no --server given and no running slipway dev found: %w", err)
		}
		var e stack.Endpoints
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("reading %s: %w", stack.EndpointsFile, err)
		}
		server = e.HTTP
	}
	token := f.token
	if token == "" {
		b, err := os.ReadFile(filepath.Join(f.dataDir, stack.AdminTokenFile))
		if err != nil {
			return nil, fmt.Errorf("no --token given: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	return &apiClient{base: strings.TrimSuffix(server, "/"), token: token, http: &http.Client{Timeout: 5 * time.Minute}}, nil
}

// do sends body (when not nil) as JSON and decodes a 2xx answer into out (when not nil). An error
// answer is returned as an error carrying the API's message.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
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
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: reading answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message, Field string } `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s (%s, HTTP %d)", e.Error.Message, e.Error.Code, resp.StatusCode)
		}
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return errors.Join(fmt.Errorf("%s %s: decoding answer", method, path), err)
	}
	return nil
}
