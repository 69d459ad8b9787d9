package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/slipway-dev/slipway/api"
)

// Temporal's remote codec protocol: POST {endpoint}/decode or {endpoint}/encode with {"payloads": [...]} (protojson
// of a Payloads), answered with the same shape. The API serves it at codecAPIPath for the temporal CLI
// (--codec-endpoint …/api/v1/temporal-codec --codec-auth "Bearer <token>") and an external Temporal UI; the
// Temporal UI slipway signs users into reaches it at UICodecPath on its own origin.
const (
	codecAPIPath = "/api/v1/temporal-codec"
	// UICodecPath is where TemporalUI serves the codec, on the UI's origin: the UI's codec endpoint.
	UICodecPath = "/slipway-codec"
	// maxCodecBytes is the largest codec request: a page of history the UI decodes at once may hold several
	// payloads of up to Temporal's 2 MB blob limit.
	maxCodecBytes = 16 << 20
)

// decodePayloads answers POST /api/v1/temporal-codec/decode: the payloads decrypted (a viewer may read what the
// Temporal UI shows). Payloads that are not encrypted come back unchanged.
func (s *Server) decodePayloads(c echo.Context) error { return s.serveCodec(c, false) }

// encodePayloads answers POST /api/v1/temporal-codec/encode: the payloads encrypted, for an admin who starts or
// signals a workflow from the Temporal UI or CLI with an input.
func (s *Server) encodePayloads(c echo.Context) error { return s.serveCodec(c, true) }

func (s *Server) serveCodec(c echo.Context, encode bool) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	out, err := s.codePayloads(body, encode)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, out)
}

// codePayloads decodes (or encodes) the payloads of a codec request body and returns the answer's body. A body
// that is not a Payloads is a 400 malformed_json; payloads that cannot be decrypted (another key file's, or
// tampered) a 422 undecryptable_payload. Without a codec the payloads come back as they are.
func (s *Server) codePayloads(body []byte, encode bool) ([]byte, error) {
	var in commonpb.Payloads
	if err := protojson.Unmarshal(body, &in); err != nil {
		return nil, malformed("the body is not a Temporal Payloads object ({\"payloads\": [...]}): %v", err)
	}
	out := in.Payloads
	if s.payloadCodec != nil {
		var err error
		if encode {
			out, err = s.payloadCodec.Encode(in.Payloads)
		} else {
			out, err = s.payloadCodec.Decode(in.Payloads)
		}
		if err != nil && !encode {
			return nil, &APIError{Status: http.StatusUnprocessableEntity, Code: "undecryptable_payload", Message: err.Error()}
		}
		if err != nil {
			return nil, fmt.Errorf("encrypting payloads: %w", err)
		}
	}
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
	if err != nil {
		return nil, fmt.Errorf("writing payloads: %w", err)
	}
	return b, nil
}

// uiCodec serves the codec to the Temporal UI behind slipway's sign-in: decode for every signed-in role,
// encode for admins. It answers false for any other path, which the UI's own server then serves.
func (s *Server) uiCodec(w http.ResponseWriter, r *http.Request, role string) bool {
	op, ok := strings.CutPrefix(r.URL.Path, UICodecPath+"/")
	if !ok {
		return false
	}
	writeErr := func(e *APIError) {
		w.Header().Set("Content-Type", echo.MIMEApplicationJSON)
		w.WriteHeader(e.Status)
		_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: e.body()})
	}
	switch {
	case r.Method != http.MethodPost || (op != "decode" && op != "encode"):
		writeErr(&APIError{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path)})
		return true
	case op == "encode" && !isAdmin(role):
		writeErr(&APIError{Status: http.StatusForbidden, Code: "forbidden", Message: fmt.Sprintf("role %q may not encode payloads; admin may", role)})
		return true
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCodecBytes))
	if err != nil {
		writeErr(errBodyTooLarge(maxCodecBytes))
		return true
	}
	out, err := s.codePayloads(body, op == "encode")
	if err != nil {
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			s.log.Error("Temporal UI codec", "err", err)
			apiErr = &APIError{Status: http.StatusInternalServerError, Code: "internal", Message: "encrypting payloads failed"}
		}
		writeErr(apiErr)
		return true
	}
	w.Header().Set("Content-Type", echo.MIMEApplicationJSON)
	_, _ = w.Write(out)
	return true
}
