package gitcred

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/secretbox"
)

const canary = "CANARY-gitcred-token-0b7e"

func TestSealOpenRoundTrip(t *testing.T) {
	keys, err := secretbox.LoadOrCreateKeyring(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	in := Credential{Token: canary, Username: "bot", SSHKey: "key", SSHKeyPassphrase: "pw", KnownHosts: "hosts"}
	sealed, err := Seal(keys, "shop", "api", in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Open(keys, "shop", "api", sealed)
	if err != nil || out != in {
		t.Fatalf("Open = %+v, %v; want what was sealed", out, err)
	}
	a := out.Auth()
	if a.Token != canary || a.Username != "bot" || string(a.SSHKey) != "key" || a.SSHKeyPassphrase != "pw" ||
		string(a.SSHKnownHosts) != "hosts" || a.InsecureIgnoreHostKey {
		t.Errorf("Auth() = %v does not carry the credential", a)
	}
	if _, err := Open(keys, "shop", "web", sealed); err == nil {
		t.Error("a credential sealed for shop/api opened as shop/web")
	}
}

func TestCredentialDoesNotShowItsSecrets(t *testing.T) {
	c := Credential{Token: canary}
	for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), c.LogValue().String()} {
		if strings.Contains(s, canary) {
			t.Errorf("the token shows in %q", s)
		}
	}
	if b, err := json.Marshal(c); err == nil {
		t.Errorf("json.Marshal = %s, want an error", b)
	}
}
