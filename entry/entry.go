// Package entry is slipway's edge on one machine: one HTTP (or HTTPS) listener, inside slipway, that
// sends each request by its Host — <component>.<environment>.<project>.<domain> — to whichever
// release of that component runs in that environment. A rollout starts the new release beside the old
// one, switches the entry to it in one step once it is ready, and drains the old one (waits until no
// request is on its way to it) before stopping it, so no request fails for a good rollout, and a bad
// one is never switched in.
package entry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slipway-dev/slipway/dataplane"
)

// Key names an entry.
type Key struct{ Project, Component, Environment string }

func (k Key) String() string { return k.Project + "/" + k.Component + "/" + k.Environment }

// Router is the edge of one slipway process and the entries it routes to. The zero value is ready to
// use: it listens on a free loopback port, over HTTP, under DefaultDomain, once it is first needed
// (Listen, Switch). Its fields may not change once it listens.
type Router struct {
	// Addr is where the edge listens, host:port; port 0 picks a free port. "" means 127.0.0.1:0.
	Addr string
	// Domain is the domain entries are named under: Host <component>.<environment>.<project>.<Domain>
	// (dataplane.PublicHost). "" means dataplane.DefaultDomain, localhost, which browsers and curl resolve
	// to the loopback address (Go's resolver does not: see DialLocalhost).
	Domain string
	// TLSCert and TLSKey are PEM files: with both set the edge serves HTTPS only (HTTP/2 included) and
	// entries' URLs are https. "" means plain HTTP.
	TLSCert, TLSKey string
	// Logger logs what goes wrong serving; nil means slog.Default().
	Logger *slog.Logger

	mu      sync.Mutex
	srv     *http.Server
	base    url.URL                 // scheme and port part of every entry's URL, once listening
	entries map[Key]*entryPoint     // under mu
	routes  atomic.Pointer[routing] // what requests read: entries by host, replaced whole under mu
}

// routing is the entries by host name (lower case, no port).
type routing map[string]*entryPoint

// entryPoint is one entry: its current backends.
type entryPoint struct {
	key      Key
	backends atomic.Pointer[[]*backend]
	next     atomic.Uint64
}

// backend is one instance behind an entry, with the requests on their way to it.
type backend struct {
	addr     string
	proxy    *httputil.ReverseProxy
	inflight atomic.Int64
}

// transport carries every entry's requests to the backends, keeping enough idle connections to each
// for a busy entry (http.DefaultTransport keeps 2 per host and would dial for most requests).
var transport = &http.Transport{
	DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	MaxIdleConnsPerHost: 64,
	IdleConnTimeout:     90 * time.Second,
}

// buffers are the copy buffers of every entry's proxies, so a request does not allocate its own 32 KiB.
var buffers = &bufferPool{}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if buf, ok := b.p.Get().(*[]byte); ok {
		return *buf
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// ErrNoBackend is what an entry answers (502) while nothing is behind it.
var ErrNoBackend = errors.New("no release is serving")

// Listen starts the edge unless it listens already, and returns the address it listens on
// (host:port). It fails when the TLS pair does not load or the address is taken.
func (r *Router) Listen() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.listen()
}

// listen is Listen with r.mu held.
func (r *Router) listen() (string, error) {
	if r.srv != nil {
		return r.srv.Addr, nil
	}
	if (r.TLSCert == "") != (r.TLSKey == "") {
		return "", errors.New("edge: a TLS certificate and key must be given together")
	}
	var tlsCfg *tls.Config
	if r.TLSCert != "" {
		pair, err := tls.LoadX509KeyPair(r.TLSCert, r.TLSKey)
		if err != nil {
			return "", fmt.Errorf("edge: loading the TLS certificate: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	}
	addr := r.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("edge: listening on %s: %w", addr, err)
	}
	bound := ln.Addr().String()
	_, port, _ := net.SplitHostPort(bound)
	r.base = url.URL{Scheme: "http"}
	if tlsCfg != nil {
		r.base.Scheme = "https"
	}
	if !(r.base.Scheme == "http" && port == "80" || r.base.Scheme == "https" && port == "443") {
		r.base.Host = ":" + port
	}
	r.srv = &http.Server{Addr: bound, Handler: r, TLSConfig: tlsCfg, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(r.log().Handler(), slog.LevelWarn)}
	if r.routes.Load() == nil {
		r.routes.Store(&routing{})
	}
	srv := r.srv
	go func() {
		var err error
		if tlsCfg != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log().Error("the edge stopped serving", "addr", bound, "err", err)
		}
	}()
	return bound, nil
}

func (r *Router) log() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}

// Host is the host name the entry k is reached at: <component>.<environment>.<project>.<domain>,
// lower case (dataplane.PublicHost).
func (r *Router) Host(k Key) string {
	return dataplane.PublicHost(k.Project, k.Component, k.Environment, r.Domain)
}

// Switch sends the entry's new requests to addrs (host:port each; none: it answers 502), in one step,
// listening and opening the entry first if need be, and then waits, until ctx ends, for the requests
// already on their way to backends not in addrs to finish. It returns the entry's URL,
// scheme://host[:port] (no port when it is the scheme's own), even when the wait is cut short.
func (r *Router) Switch(ctx context.Context, k Key, addrs []string) (string, error) {
	r.mu.Lock()
	if _, err := r.listen(); err != nil {
		r.mu.Unlock()
		return "", err
	}
	e := r.entries[k]
	if e == nil {
		e = &entryPoint{key: k}
		e.backends.Store(&[]*backend{})
		if r.entries == nil {
			r.entries = map[Key]*entryPoint{}
		}
		r.entries[k] = e
		r.publish()
	}
	u := r.base
	u.Host = r.Host(k) + u.Host
	r.mu.Unlock()

	old := *e.backends.Load()
	keep := map[string]*backend{}
	for _, b := range old {
		keep[b.addr] = b
	}
	next := make([]*backend, 0, len(addrs))
	for _, a := range addrs {
		if b := keep[a]; b != nil {
			next = append(next, b)
			delete(keep, a)
			continue
		}
		next = append(next, newBackend(a))
	}
	e.backends.Store(&next)
	// What is left in keep gets no new requests: wait for those on their way to it.
	if err := drain(ctx, slices.Collect(maps.Values(keep))); err != nil {
		return u.String(), fmt.Errorf("draining entry %s: %w", k, err)
	}
	return u.String(), nil
}

// newBackend proxies to addr, keeping the request's Host (the entry's name, which the component may
// use for the links it makes) and saying where the request came from in X-Forwarded-For, -Host and
// -Proto (those the client sent are dropped).
func newBackend(addr string) *backend {
	target := &url.URL{Scheme: "http", Host: addr}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		BufferPool: buffers,
		Transport:  transport,
	}
	return &backend{addr: addr, proxy: p}
}

// drain waits until no request is on its way to bs, or ctx ends.
func drain(ctx context.Context, bs []*backend) error {
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for {
		busy := 0
		for _, b := range bs {
			busy += int(b.inflight.Load())
		}
		if busy == 0 {
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("%d requests still on their way: %w", busy, ctx.Err())
		}
	}
}

// drainPoll is how often Switch looks whether the old backends' requests have finished.
const drainPoll = 10 * time.Millisecond

// publish makes the entries, by host, what requests see. r.mu is held.
func (r *Router) publish() {
	next := make(routing, len(r.entries))
	for k, e := range r.entries {
		next[r.Host(k)] = e
	}
	r.routes.Store(&next)
}

// Backends returns the addresses the entry sends requests to; nil when it is not open.
func (r *Router) Backends(k Key) []string {
	r.mu.Lock()
	e := r.entries[k]
	r.mu.Unlock()
	if e == nil {
		return nil
	}
	var out []string
	for _, b := range *e.backends.Load() {
		out = append(out, b.addr)
	}
	return out
}

// Remove closes the entry k, if it is open: its host is not routed any more (404), and Remove waits,
// until ctx ends, for the requests under way to finish.
func (r *Router) Remove(ctx context.Context, k Key) error {
	r.mu.Lock()
	e := r.entries[k]
	if e != nil {
		delete(r.entries, k)
		r.publish()
	}
	r.mu.Unlock()
	if e == nil {
		return nil
	}
	if err := drain(ctx, *e.backends.Swap(&[]*backend{})); err != nil {
		return fmt.Errorf("closing entry %s: %w", k, err)
	}
	return nil
}

// Close stops the edge: it takes no new connection, and requests under way finish until ctx ends.
// Every entry is closed.
func (r *Router) Close(ctx context.Context) error {
	r.mu.Lock()
	srv := r.srv
	r.srv, r.entries = nil, nil
	r.routes.Store(&routing{})
	r.mu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Shutdown(ctx); err != nil {
		return errors.Join(err, srv.Close())
	}
	return nil
}

// ServeHTTP sends the request to the entry its Host names (the port left out, any case); a host that
// names none gets 404.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	host := hostOnly(req.Host)
	var e *entryPoint
	if routes := r.routes.Load(); routes != nil {
		e = (*routes)[host]
	}
	if e == nil {
		http.Error(w, fmt.Sprintf("slipway: no component is served at %q", host), http.StatusNotFound)
		return
	}
	e.serve(w, req)
}

// hostOnly is the host name of a Host header: no port, lower case, no final dot.
func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// serve sends the request to the entry's next backend, round robin.
func (e *entryPoint) serve(w http.ResponseWriter, req *http.Request) {
	for {
		bs := *e.backends.Load()
		if len(bs) == 0 {
			http.Error(w, ErrNoBackend.Error()+" at "+e.key.String(), http.StatusBadGateway)
			return
		}
		b := bs[int(e.next.Add(1)%uint64(len(bs)))]
		b.inflight.Add(1)
		// A switch may have happened between the load and the Add: if b is gone, its drain may
		// already have seen it idle, so send the request to the current backends instead.
		if !slices.Contains(*e.backends.Load(), b) {
			b.inflight.Add(-1)
			continue
		}
		b.proxy.ServeHTTP(w, req)
		b.inflight.Add(-1)
		return
	}
}
