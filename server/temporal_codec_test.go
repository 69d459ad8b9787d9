package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/slipway-dev/slipway/payloadcodec"
)

// codecBody is the codec protocol's body of payloads.
func codecBody(t *testing.T, ps ...*commonpb.Payload) []byte {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readPayloads(t *testing.T, b []byte) []*commonpb.Payload {
	t.Helper()
	var ps commonpb.Payloads
	if err := protojson.Unmarshal(b, &ps); err != nil {
		t.Fatalf("the answer is not Payloads: %v: %s", err, b)
	}
	return ps.Payloads
}

func TestTemporalCodecEndpoints(t *testing.T) {
	var codec payloadcodec.Codec
	e := newTestEnv(t, func(d *Deps) { codec = payloadcodec.Codec{Keys: d.Keys}; d.PayloadCodec = codec })
	plain, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"commit": "c0ffee"})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := codec.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	send := func(path, token string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		return rec
	}

	// A viewer reads what the history holds: the encrypted payload and a plain one, each decoded.
	rec := send(codecAPIPath+"/decode", e.viewer, codecBody(t, enc[0], plain))
	if rec.Code != http.StatusOK {
		t.Fatalf("decode: %d %s", rec.Code, rec.Body)
	}
	got := readPayloads(t, rec.Body.Bytes())
	if len(got) != 2 || string(got[0].Data) != `{"commit":"c0ffee"}` || string(got[1].Data) != `{"commit":"c0ffee"}` {
		t.Fatalf("decoded %v", got)
	}
	if rec := send(codecAPIPath+"/decode", "", codecBody(t, enc[0])); rec.Code != http.StatusUnauthorized {
		t.Errorf("decode without a token: %d, want 401", rec.Code)
	}

	// Only an admin encodes; what comes back is ciphertext the codec opens.
	if rec := send(codecAPIPath+"/encode", e.developer, codecBody(t, plain)); rec.Code != http.StatusForbidden {
		t.Errorf("a developer encodes: %d, want 403", rec.Code)
	}
	rec = send(codecAPIPath+"/encode", e.admin, codecBody(t, plain))
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "c0ffee") {
		t.Fatalf("encode: %d %s", rec.Code, rec.Body)
	}
	if back, err := codec.Decode(readPayloads(t, rec.Body.Bytes())); err != nil || string(back[0].Data) != `{"commit":"c0ffee"}` {
		t.Fatalf("the encoded payload decoded: %v, %v", back, err)
	}

	// Bad input names what is wrong.
	if rec := send(codecAPIPath+"/decode", e.viewer, []byte(`{"payloads": 3}`)); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "malformed_json") {
		t.Errorf("a body that is no Payloads: %d %s, want 400 malformed_json", rec.Code, rec.Body)
	}
	tampered := &commonpb.Payload{Metadata: enc[0].Metadata, Data: append([]byte(nil), enc[0].Data...)}
	tampered.Data[0] ^= 1
	if rec := send(codecAPIPath+"/decode", e.viewer, codecBody(t, tampered)); rec.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(rec.Body.String(), "undecryptable_payload") {
		t.Errorf("a tampered payload: %d %s, want 422 undecryptable_payload", rec.Code, rec.Body)
	}
}

// TestTemporalUICodec serves the codec on the Temporal UI's origin, behind its sign-in: decode for a viewer,
// encode for an admin only, and every other path still reaches the UI's own server.
func TestTemporalUICodec(t *testing.T) {
	var codec payloadcodec.Codec
	e := newTestEnv(t, func(d *Deps) { codec = payloadcodec.Codec{Keys: d.Keys}; d.PayloadCodec = codec })
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("the UI")) }))
	t.Cleanup(backend.Close)
	target, _ := http.NewRequest(http.MethodGet, backend.URL, nil)
	ui := e.srv.TemporalUI(target.URL)
	plain, err := converter.GetDefaultDataConverter().ToPayload("hello")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := codec.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	send := func(method, path, token string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		if token != "" {
			req.SetBasicAuth("anyone", token)
		}
		rec := httptest.NewRecorder()
		ui.ServeHTTP(rec, req)
		return rec
	}
	if rec := send(http.MethodPost, UICodecPath+"/decode", "", codecBody(t, enc...)); rec.Code != http.StatusUnauthorized {
		t.Errorf("the UI's codec without sign-in: %d, want 401", rec.Code)
	}
	rec := send(http.MethodPost, UICodecPath+"/decode", e.viewer, codecBody(t, enc...))
	if got := readPayloads(t, rec.Body.Bytes()); rec.Code != http.StatusOK || len(got) != 1 || string(got[0].Data) != `"hello"` {
		t.Fatalf("a viewer decodes in the UI: %d %s", rec.Code, rec.Body)
	}
	if rec := send(http.MethodPost, UICodecPath+"/encode", e.viewer, codecBody(t, plain)); rec.Code != http.StatusForbidden {
		t.Errorf("a viewer encodes in the UI: %d %s, want 403", rec.Code, rec.Body)
	}
	if rec := send(http.MethodPost, UICodecPath+"/encode", e.admin, codecBody(t, plain)); rec.Code != http.StatusOK {
		t.Errorf("an admin encodes in the UI: %d %s", rec.Code, rec.Body)
	}
	if rec := send(http.MethodGet, UICodecPath+"/decode", e.viewer, nil); rec.Code != http.StatusNotFound {
		t.Errorf("GET of the codec: %d, want 404", rec.Code)
	}
	if rec := send(http.MethodGet, "/namespaces/default/workflows", e.viewer, nil); rec.Code != http.StatusOK || rec.Body.String() != "the UI" {
		t.Errorf("the UI itself: %d %s", rec.Code, rec.Body)
	}
}
