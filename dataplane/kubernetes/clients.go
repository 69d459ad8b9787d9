package kubernetes

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Binding is how an environment reaches its cluster and what its releases run with there.
type Binding struct {
	// Kubeconfig is the kubeconfig file's content, Context the context used in it ("" means its
	// current context). Ignored with InCluster, which uses the process's own service account.
	Kubeconfig []byte
	Context    string
	InCluster  bool
	// Namespace, IngressNamespaces, MaxSurge, MaxUnavailable and ProgressDeadline are the Driver's.
	Namespace         string
	IngressNamespaces []string
	MaxSurge          *int
	MaxUnavailable    *int
	ProgressDeadline  time.Duration
}

// Clients keeps one client per cluster, so environments on the same cluster share connections.
// The zero value is ready to use.
type Clients struct {
	// Install is the install's ID, every driver's Driver.Install. "" means none: the drivers label
	// nothing with an install and take only objects without one for their own — fit for reading drift,
	// not for deploying where another install may have.
	Install string
	// Domain and IngressClass are every driver's Driver.Domain and Driver.IngressClass.
	Domain, IngressClass string

	mu    sync.Mutex
	byKey map[string]k8s.Interface
	// inCluster is the process's own config; nil means rest.InClusterConfig.
	inCluster func() (*rest.Config, error)
}

// Driver returns the driver of an environment bound by b.
func (c *Clients) Driver(b Binding) (*Driver, error) {
	client, err := c.client(b)
	if err != nil {
		return nil, err
	}
	return &Driver{Client: client, Namespace: b.Namespace, IngressNamespaces: b.IngressNamespaces,
		MaxSurge: b.MaxSurge, MaxUnavailable: b.MaxUnavailable, ProgressDeadline: b.ProgressDeadline, Install: c.Install,
		Domain: c.Domain, IngressClass: c.IngressClass}, nil
}

func (c *Clients) client(b Binding) (k8s.Interface, error) {
	key := "in-cluster"
	if !b.InCluster {
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%s", b.Context, b.Kubeconfig)
		key = hex.EncodeToString(h.Sum(nil))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.byKey[key]; ok {
		return cl, nil
	}
	cfg, err := c.restConfig(b)
	if err != nil {
		return nil, err
	}
	cl, err := k8s.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	if c.byKey == nil {
		c.byKey = map[string]k8s.Interface{}
	}
	c.byKey[key] = cl
	return cl, nil
}

// restConfig reads the binding's kubeconfig. Its errors never quote the kubeconfig.
func (c *Clients) restConfig(b Binding) (*rest.Config, error) {
	if b.InCluster {
		get := c.inCluster
		if get == nil {
			get = rest.InClusterConfig
		}
		cfg, err := get()
		if err != nil {
			return nil, fmt.Errorf("in-cluster kubernetes config: %w", err)
		}
		return cfg, nil
	}
	if len(b.Kubeconfig) == 0 {
		return nil, fmt.Errorf("no kubeconfig stored")
	}
	raw, err := clientcmd.Load(b.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("the stored kubeconfig does not parse")
	}
	if err := CheckCredentials(raw, b.Context); err != nil {
		return nil, err
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, b.Context, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig context %q: %w", b.Context, err)
	}
	cfg.UserAgent = "slipway"
	// No call may hang a rollout: its heartbeat would keep it alive until the activity's deadline.
	cfg.Timeout = requestTimeout
	return cfg, nil
}

// requestTimeout bounds one call to a cluster's API.
const requestTimeout = 30 * time.Second

// CheckCredentials refuses a kubeconfig whose context (its current one when context is "") reaches its
// cluster with anything but inline credentials: an exec plugin or auth provider would run a program on
// slipway's machines, and a file path (token file, certificate or key file, CA file) would send that
// machine's file — its own service account token, say — to whatever server the kubeconfig names.
// Inline data (token, client-certificate-data, client-key-data, certificate-authority-data) is fine.
func CheckCredentials(cfg *clientcmdapi.Config, context string) error {
	if context == "" {
		context = cfg.CurrentContext
	}
	c, ok := cfg.Contexts[context]
	if !ok || c == nil {
		return fmt.Errorf("kubeconfig has no context %q", context)
	}
	var refused []string
	if u := cfg.AuthInfos[c.AuthInfo]; u != nil {
		for what, set := range map[string]bool{
			"exec": u.Exec != nil, "auth-provider": u.AuthProvider != nil, "tokenFile": u.TokenFile != "",
			"client-certificate": u.ClientCertificate != "", "client-key": u.ClientKey != "",
		} {
			if set {
				refused = append(refused, fmt.Sprintf("user %q: %s", c.AuthInfo, what))
			}
		}
	}
	if cl := cfg.Clusters[c.Cluster]; cl != nil && cl.CertificateAuthority != "" {
		refused = append(refused, fmt.Sprintf("cluster %q: certificate-authority", c.Cluster))
	}
	if len(refused) > 0 {
		slices.Sort(refused)
		return fmt.Errorf("kubeconfig context %q refers to programs or files (%s): slipway takes only inline credentials "+
			"(token, client-certificate-data, client-key-data, certificate-authority-data), or inCluster", context, strings.Join(refused, ", "))
	}
	return nil
}
