package secretbox

import "encoding/binary"

// AAD builds associated data that binds a ciphertext to where it belongs, for example
// AAD("config", project, component, environment, key). Each part is prefixed by its length as a 4-byte big-endian
// integer, so ("ab","c") and ("a","bc") give different results. With no parts it returns an empty slice.
func AAD(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += 4 + len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = binary.BigEndian.AppendUint32(out, uint32(len(p)))
		out = append(out, p...)
	}
	return out
}
