package kubernetes

import (
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func TestCheckCredentialsTakesOnlyInlineCredentials(t *testing.T) {
	kubeconfig := func(user *clientcmdapi.AuthInfo, cluster *clientcmdapi.Cluster) *clientcmdapi.Config {
		c := clientcmdapi.NewConfig()
		c.Clusters["c"], c.AuthInfos["u"] = cluster, user
		c.Contexts["ctx"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
		c.CurrentContext = "ctx"
		return c
	}
	inline := &clientcmdapi.Cluster{Server: "https://k8s.example:6443", CertificateAuthorityData: []byte("CA")}
	if err := CheckCredentials(kubeconfig(&clientcmdapi.AuthInfo{Token: "t"}, inline), ""); err != nil {
		t.Fatalf("inline token refused: %v", err)
	}
	if err := CheckCredentials(kubeconfig(&clientcmdapi.AuthInfo{ClientCertificateData: []byte("c"), ClientKeyData: []byte("k")}, inline), "ctx"); err != nil {
		t.Fatalf("inline client certificate refused: %v", err)
	}
	for name, tc := range map[string]struct {
		user    *clientcmdapi.AuthInfo
		cluster *clientcmdapi.Cluster
		want    string
	}{
		"exec":          {&clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{Command: "sh"}}, inline, `user "u": exec`},
		"auth provider": {&clientcmdapi.AuthInfo{AuthProvider: &clientcmdapi.AuthProviderConfig{Name: "oidc"}}, inline, "auth-provider"},
		"token file":    {&clientcmdapi.AuthInfo{TokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token"}, inline, "tokenFile"},
		"key file":      {&clientcmdapi.AuthInfo{ClientCertificate: "/c", ClientKey: "/k"}, inline, "client-certificate, user \"u\": client-key"},
		"ca file":       {&clientcmdapi.AuthInfo{Token: "t"}, &clientcmdapi.Cluster{Server: "https://x", CertificateAuthority: "/ca"}, `cluster "c": certificate-authority`},
	} {
		err := CheckCredentials(kubeconfig(tc.user, tc.cluster), "")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s", name, err, tc.want)
		}
	}
	var c Clients
	if _, err := c.Driver(Binding{Kubeconfig: []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://x\n    certificate-authority: /ca\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u}\ncurrent-context: ctx\n")}); err == nil {
		t.Fatal("a stored kubeconfig with a CA file made a client")
	}
}
