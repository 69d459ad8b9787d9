package payloadcodec

import (
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/slipway-dev/slipway/secretbox"
)

// Metadata keys and values of an encrypted payload. Encoding is Temporal's metadata key "encoding"; the value
// "binary/encrypted" is the one Temporal's samples and tools use for an encrypted payload.
const (
	MetadataEncoding = converter.MetadataEncoding
	// EncodingEncrypted is the encoding of a payload this codec encrypted.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the KEK that wrapped the payload's data key.
	MetadataKeyID = "encryption-key-id"
	// MetadataWrappedKey holds the payload's data key, sealed with the KEK.
	MetadataWrappedKey = "encryption-wrapped-key"
)

// aad binds every ciphertext to its use: a sealed config value cannot be passed off as a payload, nor the
// other way round.
var aad = []byte("slipway temporal payload v1")

// Codec is a converter.PayloadCodec that encrypts payloads with Keys. The zero Codec has no keyring and
// panics on use; Keys is required.
type Codec struct {
	Keys *secretbox.Keyring
}

var _ converter.PayloadCodec = Codec{}

// Encode encrypts each payload, whole (metadata and data), with a fresh data key wrapped by the active KEK.
// A payload already encrypted is left as it is.
func (c Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if encrypted(p) {
			out[i] = p
			continue
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("encrypting a payload: %w", err)
		}
		s, err := c.Keys.Seal(aad, plain)
		if err != nil {
			return payloads, fmt.Errorf("encrypting a payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				MetadataEncoding:   []byte(EncodingEncrypted),
				MetadataKeyID:      []byte(s.KEKID),
				MetadataWrappedKey: s.WrappedKey,
			},
			Data: s.Ciphertext,
		}
	}
	return out, nil
}

// Decode decrypts each encrypted payload and passes the others through. A payload whose KEK the key file does
// not hold, or that was tampered with, fails the whole call with an error naming the KEK (wrapping
// secretbox.ErrUnknownKEK or secretbox.ErrDecrypt).
func (c Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if !encrypted(p) {
			out[i] = p
			continue
		}
		kek := string(p.Metadata[MetadataKeyID])
		plain, err := c.Keys.Open(aad, secretbox.Sealed{KEKID: kek, WrappedKey: p.Metadata[MetadataWrappedKey], Ciphertext: p.Data})
		if err != nil {
			return payloads, fmt.Errorf("decrypting a payload sealed with KEK %q: %w", kek, err)
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(plain, &dec); err != nil {
			return payloads, fmt.Errorf("decrypting a payload sealed with KEK %q: %w", kek, err)
		}
		out[i] = &dec
	}
	return out, nil
}

func encrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[MetadataEncoding]) == EncodingEncrypted
}

// DataConverter is Temporal's default data converter with every payload encrypted by Codec{keys}.
func DataConverter(keys *secretbox.Keyring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), Codec{Keys: keys})
}

// FailureConverter is Temporal's default failure converter with a failure's message and stack trace moved
// into its encoded attributes, encrypted by dc: the history then shows "Encoded failure" instead of an
// error's text. Workflows and activities see their errors as before.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
}
