package payloadcodec_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/slipway-dev/slipway/payloadcodec"
	"github.com/slipway-dev/slipway/secretbox"
)

type input struct {
	Project, Commit string
}

func keyring(t testing.TB) (*secretbox.Keyring, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kek.json")
	k, err := secretbox.LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	return k, path
}

func TestEncryptedPayloadsHoldNoPlaintextAndComeBack(t *testing.T) {
	keys, _ := keyring(t)
	dc := payloadcodec.DataConverter(keys)
	in := input{Project: "shop", Commit: "0123456789abcdef0123456789abcdef01234567"}
	ps, err := dc.ToPayloads(in, "second")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps.Payloads) != 2 {
		t.Fatalf("%d payloads, want 2", len(ps.Payloads))
	}
	for _, p := range ps.Payloads {
		if got := string(p.Metadata[payloadcodec.MetadataEncoding]); got != payloadcodec.EncodingEncrypted {
			t.Errorf("encoding %q, want %q", got, payloadcodec.EncodingEncrypted)
		}
		if got := string(p.Metadata[payloadcodec.MetadataKeyID]); got != keys.ActiveID() {
			t.Errorf("key ID %q, want the active KEK %q", got, keys.ActiveID())
		}
		for _, plain := range []string{in.Commit, "shop", "second", "json/plain"} {
			if bytes.Contains(p.Data, []byte(plain)) || bytes.Contains(p.Metadata[payloadcodec.MetadataWrappedKey], []byte(plain)) {
				t.Errorf("an encrypted payload holds %q", plain)
			}
		}
	}
	// Two encryptions of the same value differ (a fresh data key and nonce each time).
	again, err := dc.ToPayloads(in, "second")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again.Payloads[0].Data, ps.Payloads[0].Data) {
		t.Error("the same value encrypted twice gave the same ciphertext")
	}
	var out input
	var second string
	if err := dc.FromPayloads(ps, &out, &second); err != nil {
		t.Fatal(err)
	}
	if out != in || second != "second" {
		t.Fatalf("decoded %+v %q, want %+v %q", out, second, in, "second")
	}
}

func TestRotationKeepsOldPayloadsReadable(t *testing.T) {
	keys, path := keyring(t)
	dc := payloadcodec.DataConverter(keys)
	old, err := dc.ToPayload("before the rotation")
	if err != nil {
		t.Fatal(err)
	}
	oldKEK := keys.ActiveID()
	if _, err := keys.Rotate(); err != nil {
		t.Fatal(err)
	}
	// Another process (a worker replaying an old history) reads the rotated key file.
	other, err := secretbox.LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := payloadcodec.DataConverter(other).FromPayload(old, &got); err != nil || got != "before the rotation" {
		t.Fatalf("an old payload after the rotation: %q, %v", got, err)
	}
	fresh, err := dc.ToPayload("after")
	if err != nil {
		t.Fatal(err)
	}
	if k := string(fresh.Metadata[payloadcodec.MetadataKeyID]); k == oldKEK || k != keys.ActiveID() {
		t.Fatalf("a new payload is sealed with %q, want the new active KEK %q", k, keys.ActiveID())
	}
}

func TestDecodePassesPlainPayloadsAndRefusesForeignOrTampered(t *testing.T) {
	keys, _ := keyring(t)
	codec := payloadcodec.Codec{Keys: keys}
	plain, err := converter.GetDefaultDataConverter().ToPayload("written before encryption")
	if err != nil {
		t.Fatal(err)
	}
	dec, err := codec.Decode([]*commonpb.Payload{plain})
	if err != nil || dec[0] != plain {
		t.Fatalf("a plain payload: %v, %v; want it passed through", dec, err)
	}
	enc, err := codec.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	twice, err := codec.Encode(enc)
	if err != nil || twice[0] != enc[0] {
		t.Fatalf("encoding an encrypted payload again: %v, %v; want it left as it is", twice, err)
	}

	tampered := &commonpb.Payload{Metadata: enc[0].Metadata, Data: append([]byte(nil), enc[0].Data...)}
	tampered.Data[len(tampered.Data)-1] ^= 1
	if _, err := codec.Decode([]*commonpb.Payload{tampered}); !errors.Is(err, secretbox.ErrDecrypt) {
		t.Errorf("a tampered payload: %v, want ErrDecrypt", err)
	}
	otherKeys, _ := keyring(t)
	if _, err := (payloadcodec.Codec{Keys: otherKeys}).Decode(enc); !errors.Is(err, secretbox.ErrUnknownKEK) {
		t.Errorf("a payload from another key file: %v, want ErrUnknownKEK", err)
	}
}

func TestFailuresAreEncryptedToo(t *testing.T) {
	keys, _ := keyring(t)
	dc := payloadcodec.DataConverter(keys)
	fc := payloadcodec.FailureConverter(dc)
	f := fc.ErrorToFailure(errors.New("pulling registry.example/shop/api: denied"))
	if bytes.Contains([]byte(f.GetMessage()+f.GetStackTrace()), []byte("registry.example")) {
		t.Fatalf("the failure's message is in the clear: %q", f.GetMessage())
	}
	if enc := f.GetEncodedAttributes(); enc == nil || string(enc.Metadata[payloadcodec.MetadataEncoding]) != payloadcodec.EncodingEncrypted {
		t.Fatalf("the failure's encoded attributes %v, want encrypted", enc)
	}
	if err := fc.FailureToError(f); err == nil || err.Error() != "pulling registry.example/shop/api: denied" {
		t.Fatalf("the failure back as an error: %v", err)
	}
}
