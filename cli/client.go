package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/stack"
)

// requestTimeout bounds one API call, answer included; a followed log (apiClient.stream) has no such bound.
const requestTimeout = 5 * time.Minute

// apiClient calls the slipway API with a bearer token.
type apiClient struct {
	base  string
	token string
	// http has no Timeout: do bounds each call with requestTimeout, stream only by its context.
	http *http.Client
}

// apiError is an error answer of the API: {"error": {"code", "message", "field"}}, or, from something else in
// front of it, any other body.
type apiError struct {
	Status               int
	Code, Message, Field string
	// Method, Path and Body describe an answer that was not an API error body.
	Method, Path, Body string
}

// Error returns the API's message with its code and the HTTP status, or the status and body of another answer.
func (e *apiError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("%s (%s, HTTP %d)", e.Message, e.Code, e.Status)
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// temporary reports whether the same request may succeed later: server errors and 429, not other refusals.
func (e *apiError) temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// HTTPStatus is the answer's HTTP status.
func (e *apiError) HTTPStatus() int { return e.Status }

// APIField is the request field the API named as at fault; "" when none.
func (e *apiError) APIField() string { return e.Field }

// answerError turns an answer with status >= 300 into an *apiError.
func answerError(method, path string, status int, body []byte) *apiError {
	var e api.ErrorBody
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return &apiError{Status: status, Code: e.Error.Code, Message: e.Error.Message, Field: e.Error.Field}
	}
	return &apiError{Status: status, Method: method, Path: path, Body: string(bytes.TrimSpace(body))}
}

// clientFlags adds --server, --token and --data-dir to fs; connect resolves them.
type clientFlags struct {
	server, token, dataDir string
}

func addClientFlags(fs *pflag.FlagSet) *clientFlags {
	f := &clientFlags{}
	fs.StringVar(&f.server, "server", "", "API base URL (default: the http entry of <data-dir>/endpoints.json)")
	fs.StringVar(&f.token, "token", "", "API token (default: the contents of <data-dir>/admin-token)")
	fs.StringVar(&f.dataDir, "data-dir", ".slipway", "data dir of a local slipway dev")
	return f
}

// devEndpoints reads the endpoints a running slipway dev wrote to <dataDir>/endpoints.json; flag names
// the option that would have made them unnecessary, for the error.
func devEndpoints(dataDir, flag string) (stack.Endpoints, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, stack.EndpointsFile))
	if err != nil {
		return stack.Endpoints{}, fmt.Errorf("no %s given and no running slipway dev found: %w", flag, err)
	}
	var e stack.Endpoints
	if err := json.Unmarshal(b, &e); err != nil {
		return stack.Endpoints{}, fmt.Errorf("reading %s: %w", stack.EndpointsFile, err)
	}
	return e, nil
}

func (f *clientFlags) connect() (*apiClient, error) {
	server := f.server
	if server == "" {
		e, err := devEndpoints(f.dataDir, "--server")
		if err != nil {
			return nil, err
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
	return &apiClient{base: strings.TrimSuffix(server, "/"), token: token, http: &http.Client{}}, nil
}

// Do is do, for the packages that take a client of the API (projectfile).
func (c *apiClient) Do(ctx context.Context, method, path string, body, out any) error {
	return c.do(ctx, method, path, body, out)
}

// component is the API path of the component "<project>/<component>" names, and a client to call it with.
func (f *clientFlags) component(arg string) (string, *apiClient, error) {
	path, err := componentPath(arg)
	if err != nil {
		return "", nil, err
	}
	c, err := f.connect()
	return path, c, err
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
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
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
		return answerError(method, path, resp.StatusCode, b)
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return errors.Join(fmt.Errorf("%s %s: decoding answer", method, path), err)
	}
	return nil
}

// stream GETs path and returns the body of a 2xx answer as it arrives, for the caller to close; an error answer
// is returned as an *apiError. Only ctx bounds it.
func (c *apiClient) stream(ctx context.Context, path string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return nil, fmt.Errorf("GET %s: HTTP %d: reading answer: %w", path, resp.StatusCode, err)
		}
		return nil, answerError(http.MethodGet, path, resp.StatusCode, b)
	}
	return resp.Body, nil
}
