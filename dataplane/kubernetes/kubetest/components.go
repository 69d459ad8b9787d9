package kubetest

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// serviceCIDR is the cluster's service IP range; the API server's service takes its first address.
const serviceCIDR = "10.96.0.0/16"

// The fake nodes: kwok manages the nodes carrying fakeNodeAnnotation.
const (
	fakeNodeAnnotation = "kwok.x-k8s.io/node"
	fakeNodeValue      = "fake"
	nodeCount          = 2
)

// pollInterval is how often start checks whether a component is ready.
const pollInterval = 100 * time.Millisecond

// run starts the components in order, each once what it needs is ready, and waits until the
// control plane can run pods.
func (c *ControlPlane) run(ctx context.Context, bins tools) error {
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	etcdPort, etcdPeerPort, apiPort, schedulerPort := ports[0], ports[1], ports[2], ports[3]
	files, err := writeFiles(c.dir, apiPort)
	if err != nil {
		return err
	}
	c.Config, c.Kubeconfig = files.config, files.kubeconfig

	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(etcdPeerPort)
	etcd, err := c.exec(bins.etcd,
		"--name=kubetest",
		"--data-dir="+filepath.Join(c.dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=kubetest="+peerURL,
		"--logger=zap", "--log-level=warn",
	)
	if err != nil {
		return err
	}
	plain := &http.Client{Timeout: 2 * time.Second}
	if err := c.poll(ctx, etcd, "etcd healthy", func(ctx context.Context) error {
		return get(ctx, plain, etcdURL+"/health", `"health":"true"`)
	}); err != nil {
		return err
	}

	apiserver, err := c.exec(bins.apiserver,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(apiPort),
		"--tls-cert-file="+files.servingCert, "--tls-private-key-file="+files.servingKey,
		"--client-ca-file="+files.caCert,
		"--token-auth-file="+files.tokens,
		"--authorization-mode=Node,RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+files.serviceAccountKey,
		"--service-account-signing-key-file="+files.serviceAccountKey,
		"--service-cluster-ip-range="+serviceCIDR,
		"--allow-privileged=true",
		// 1.37 refuses to publish a loopback address as the kubernetes service's endpoint; nothing
		// in the cluster dials it (kwok's pods run nowhere), so the endpoint is left out.
		"--endpoint-reconciler-type=none",
		// etcd 3.4 cannot report watch progress, so the API server must not turn watches from
		// resource version 0 into watch-list streams, which it would then refuse: kwok's watches
		// all start at 0 and would only see changes when they relist, seconds apart.
		"--feature-gates=WatchList=false",
		// What a test cluster of one client does not need, and costs start time or requests.
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("making a client: %w", err)
	}
	if err := c.poll(ctx, apiserver, "kube-apiserver ready", func(ctx context.Context) error {
		_, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err
	}); err != nil {
		return err
	}

	controllerManager, err := c.exec(bins.controllerManager,
		"--kubeconfig="+files.kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--root-ca-file="+files.caCert,
		"--service-account-private-key-file="+files.serviceAccountKey,
		"--kube-api-qps=100", "--kube-api-burst=200",
		"--profiling=false",
	)
	if err != nil {
		return err
	}
	scheduler, err := c.exec(bins.scheduler,
		"--kubeconfig="+files.kubeconfig,
		"--authentication-kubeconfig="+files.kubeconfig,
		"--authorization-kubeconfig="+files.kubeconfig,
		"--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(schedulerPort),
		"--cert-dir="+filepath.Join(c.dir, "scheduler"),
		"--kube-api-qps=100", "--kube-api-burst=200",
		"--profiling=false",
	)
	if err != nil {
		return err
	}
	kwok, err := c.exec(bins.kwok,
		"--kubeconfig="+files.kubeconfig,
		"--config="+files.stages,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector="+fakeNodeAnnotation+"="+fakeNodeValue,
		"--node-lease-duration-seconds=40",
	)
	if err != nil {
		return err
	}
	if err := c.createNodes(ctx, cs); err != nil {
		return err
	}

	if err := c.poll(ctx, controllerManager, "the default service account", func(ctx context.Context) error {
		_, err := cs.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return err
	}); err != nil {
		return err
	}
	// The scheduler serves its own self-signed certificate; /readyz needs no credentials.
	insecure := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // a loopback health check
	}}
	if err := c.poll(ctx, scheduler, "kube-scheduler ready", func(ctx context.Context) error {
		return get(ctx, insecure, "https://127.0.0.1:"+strconv.Itoa(schedulerPort)+"/readyz", "ok")
	}); err != nil {
		return err
	}
	return c.poll(ctx, kwok, "the nodes Ready and schedulable", func(ctx context.Context) error {
		for _, name := range c.Nodes {
			n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !nodeReady(n) {
				return fmt.Errorf("node %s is not Ready", name)
			}
			if len(n.Spec.Taints) > 0 { // node.kubernetes.io/not-ready, until the node controller sees it Ready
				return fmt.Errorf("node %s is tainted %s", name, n.Spec.Taints[0].Key)
			}
		}
		return nil
	})
}

// createNodes creates the fake nodes kwok manages, with room for many pods.
func (c *ControlPlane) createNodes(ctx context.Context, cs kubernetes.Interface) error {
	room := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("250"),
	}
	for i := range nodeCount {
		name := fmt.Sprintf("kwok-node-%d", i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Annotations: map[string]string{fakeNodeAnnotation: fakeNodeValue},
				Labels: map[string]string{
					"kubernetes.io/hostname": name,
					"kubernetes.io/os":       "linux",
					"kubernetes.io/arch":     "amd64",
					"type":                   "kwok",
				},
			},
			Status: corev1.NodeStatus{Allocatable: room, Capacity: room},
		}
		if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating node %s: %w", name, err)
		}
		c.Nodes = append(c.Nodes, name)
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// poll calls check until it returns nil. It fails when one of c's processes exits first, with
// the tail of its log, or when ctx ends, with check's last error and the tail of owner's log.
func (c *ControlPlane) poll(ctx context.Context, owner *process, what string, check func(context.Context) error) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		last := check(callCtx)
		cancel()
		if last == nil {
			return nil
		}
		for _, p := range c.procs {
			select {
			case <-p.done:
				return fmt.Errorf("waiting for %s: %s exited: %v; the end of its log:\n%s", what, p.name, p.err, p.tail(30))
			default:
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w; the end of %s's log:\n%s", what, last, owner.name, owner.tail(30))
		case <-tick.C:
		}
	}
}

// get fails unless url answers 200 with a body containing want.
func get(ctx context.Context, client *http.Client, url, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return nil
}

// freePorts returns n distinct TCP ports free on 127.0.0.1 a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
