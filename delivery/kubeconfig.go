package delivery

import (
	"regexp"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/slipway-dev/slipway/dataplane/kubernetes"
)

// Kubeconfig is a kubeconfig given for an environment's cluster, parsed. It holds credentials: it is never
// logged or returned.
type Kubeconfig struct{ cfg *clientcmdapi.Config }

// yamlLineRE finds the line number in a YAML parse error, the only part of such an error safe to repeat: the rest
// may quote the kubeconfig, which holds credentials.
var yamlLineRE = regexp.MustCompile(`line \d+`)

// ParseKubeconfig parses a kubeconfig given for an environment's cluster, or refuses it (Invalid) saying why
// it does not parse without repeating any of its content.
func ParseKubeconfig(content string) (*Kubeconfig, error) {
	cfg, err := clientcmd.Load([]byte(content))
	if err != nil {
		where := ""
		if m := yamlLineRE.FindString(err.Error()); m != "" {
			where = " (at " + m + ")"
		}
		return nil, refuse(Invalid, "invalid", "kubeconfig", "kubeconfig is not a kubeconfig: it does not parse as one%s", where)
	}
	return &Kubeconfig{cfg: cfg}, nil
}

// CheckContext refuses (Invalid) the kubeconfig unless it has the context named (its current context when
// name is "") and that context's cluster, with a server address, and user, with credentials the client can
// use. The names it gives are names, never credentials.
func (k *Kubeconfig) CheckContext(name string) error {
	cfg := k.cfg
	if name == "" {
		name = cfg.CurrentContext
		if name == "" {
			return refuse(Invalid, "invalid", "kubeconfig", "kubeconfig has no current-context: set kubernetes.context to one of its contexts")
		}
	}
	ctx, ok := cfg.Contexts[name]
	if !ok || ctx == nil {
		return refuse(Invalid, "invalid", "kubeconfig", "kubeconfig has no context %q", name)
	}
	cluster, ok := cfg.Clusters[ctx.Cluster]
	switch {
	case !ok || cluster == nil:
		return refuse(Invalid, "invalid", "kubeconfig", "context %q of the kubeconfig names cluster %q, which the kubeconfig lacks", name, ctx.Cluster)
	case cluster.Server == "":
		return refuse(Invalid, "invalid", "kubeconfig", "cluster %q of the kubeconfig has no server address", ctx.Cluster)
	}
	if user, ok := cfg.AuthInfos[ctx.AuthInfo]; !ok || user == nil {
		return refuse(Invalid, "invalid", "kubeconfig", "context %q of the kubeconfig names user %q, which the kubeconfig lacks", name, ctx.AuthInfo)
	}
	if err := kubernetes.CheckCredentials(cfg, name); err != nil {
		return refuse(Invalid, "invalid", "kubeconfig", "%s", err)
	}
	return nil
}
