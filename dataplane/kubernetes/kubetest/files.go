package kubetest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"embed"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// stages are kwok's Stage objects: how fake nodes and pods go through their lives.
//
//go:embed stages/*.yaml
var stages embed.FS

// adminUser is the user of the static token: a member of system:masters, which RBAC lets do all.
const adminUser = "kubetest-admin"

// files are the paths of what the components read, written into the control plane's directory,
// and the administrator's client configuration.
type files struct {
	caCert, servingCert, servingKey string // the API server's TLS; the CA is also the cluster's root CA
	serviceAccountKey               string // signs service account tokens
	tokens                          string // --token-auth-file
	kubeconfig                      string // the administrator's, for the other components and for tests
	stages                          string // kwok's --config
	config                          *rest.Config
}

// writeFiles writes the certificates, keys, token file, kubeconfig and kwok stages of a control
// plane whose API server listens on 127.0.0.1:apiPort.
func writeFiles(dir string, apiPort int) (*files, error) {
	f := &files{
		caCert:            filepath.Join(dir, "ca.crt"),
		servingCert:       filepath.Join(dir, "apiserver.crt"),
		servingKey:        filepath.Join(dir, "apiserver.key"),
		serviceAccountKey: filepath.Join(dir, "service-account.key"),
		tokens:            filepath.Join(dir, "tokens.csv"),
		kubeconfig:        filepath.Join(dir, "kubeconfig"),
		stages:            filepath.Join(dir, "kwok-stages.yaml"),
	}
	caPEM, caCert, caKey, err := newCert(nil, nil, "kubetest-ca")
	if err != nil {
		return nil, err
	}
	servingPEM, _, servingKey, err := newCert(caCert, caKey, "kube-apiserver")
	if err != nil {
		return nil, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the service account key: %w", err)
	}
	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		return nil, fmt.Errorf("generating the admin token: %w", err)
	}
	adminToken := hex.EncodeToString(token)
	stageYAML, err := concatStages()
	if err != nil {
		return nil, err
	}
	contents := map[string][]byte{
		f.caCert:            caPEM,
		f.servingCert:       servingPEM,
		f.servingKey:        keyPEM(servingKey),
		f.serviceAccountKey: keyPEM(saKey),
		f.tokens:            []byte(adminToken + "," + adminUser + "," + adminUser + `,"system:masters"` + "\n"),
		f.stages:            stageYAML,
	}
	for path, data := range contents {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
	}

	host := "https://127.0.0.1:" + strconv.Itoa(apiPort)
	f.config = &rest.Config{
		Host:            host,
		BearerToken:     adminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: caPEM},
		QPS:             100,
		Burst:           200,
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["kubetest"] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: caPEM}
	kc.AuthInfos[adminUser] = &clientcmdapi.AuthInfo{Token: adminToken}
	kc.Contexts["kubetest"] = &clientcmdapi.Context{Cluster: "kubetest", AuthInfo: adminUser}
	kc.CurrentContext = "kubetest"
	if err := clientcmd.WriteToFile(*kc, f.kubeconfig); err != nil {
		return nil, fmt.Errorf("writing the kubeconfig: %w", err)
	}
	return f, nil
}

// newCert makes an ECDSA key and a certificate for it: a self-signed CA when parent is nil, else a
// serving certificate for the API server's loopback and in-cluster names, signed by parent.
func newCert(parent *x509.Certificate, parentKey *ecdsa.PrivateKey, name string) ([]byte, *x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generating the key of %s: %w", name, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generating the serial of %s: %w", name, err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
	}
	signer, signerKey := tmpl, key
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else {
		signer, signerKey = parent, parentKey
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 96, 0, 1)} // the first address of serviceCIDR
		tmpl.DNSNames = []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("signing the certificate of %s: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("parsing the certificate of %s: %w", name, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), cert, key, nil
}

// keyPEM encodes key as a PEM "EC PRIVATE KEY" block.
func keyPEM(key *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		panic(err) // a P-256 key just generated always marshals
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

// concatStages joins the embedded stage files into one YAML stream, kwok's --config.
func concatStages() ([]byte, error) {
	names, err := fs.Glob(stages, "stages/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("listing kwok stages: %w", err)
	}
	var buf bytes.Buffer
	for _, name := range names {
		data, err := stages.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("reading kwok stage %s: %w", name, err)
		}
		buf.WriteString("---\n")
		buf.Write(data)
	}
	return buf.Bytes(), nil
}
