// Package entry gives each (project, component, environment) a stable address on the host — an
// HTTP reverse proxy inside slipway — in front of whichever release runs there. A rollout starts
// the new release beside the old one, switches the entry to it in one step once it is ready, and
// drains the old one (waits until no request is on its way to it) before stopping it, so no
// request fails for a good rollout, and a bad one is never switched in.
package entry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Key names an entry.
type Key struct{ Project, Component, Environment string }

func (k Key) String() string { return k.Project + "/" + k.Component + "/" + k.Environment }

// Router holds the entries of one slipway process. The zero value is ready to use; Host is the
// address entries listen on ("" means 127.0.0.1).
type Router struct {
	Host   string
	Logger *slog.Logger

	mu      sync.Mutex
	entries map[Key]*entryPoint
}

// entryPoint is one entry: its listener, proxy and current backends.
type entryPoint struct {
	key      Key
	url      string
	srv      *http.Server
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

// Open makes sure the entry listens, on addr if it has never listened in this process ("" or a port
// 0 picks a free port; a recorded address keeps the URL across restarts), and returns its URL.
func (r *Router) Open(k Key, addr string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.entries[k]; e != nil {
		return e.url, nil
	}
	if addr == "" {
		host := r.Host
		if host == "" {
			host = "127.0.0.1"
		}
		addr = net.JoinHostPort(host, "0")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("entry %s: listening on %s: %w", k, addr, err)
	}
	e := &entryPoint{key: k, url: "http://" + ln.Addr().String()}
	e.backends.Store(&[]*backend{})
	e.srv = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := e.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log().Error("entry stopped serving", "entry", k.String(), "err", err)
		}
	}()
	if r.entries == nil {
		r.entries = map[Key]*entryPoint{}
	}
	r.entries[k] = e
	return e.url, nil
}

func (r *Router) log() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}

// Switch sends the entry's new requests to addrs (host:port each), in one step, and then waits,
// until ctx ends, for the requests already on their way to backends not in addrs to finish. The
// entry must be open.
func (r *Router) Switch(ctx context.Context, k Key, addrs []string) error {
	r.mu.Lock()
	e := r.entries[k]
	r.mu.Unlock()
	if e == nil {
		return fmt.Errorf("entry %s is not open", k)
	}
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
		target := &url.URL{Scheme: "http", Host: a}
		p := httputil.NewSingleHostReverseProxy(target)
		p.BufferPool, p.Transport = buffers, transport
		b := &backend{addr: a, proxy: p}
		next = append(next, b)
	}
	e.backends.Store(&next)
	// What is left in keep gets no new requests: wait for those on their way to it.
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for {
		busy := 0
		for _, b := range keep {
			busy += int(b.inflight.Load())
		}
		if busy == 0 {
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("draining entry %s: %d requests still on their way: %w", k, busy, ctx.Err())
		}
	}
}

// drainPoll is how often Switch looks whether the old backends' requests have finished.
const drainPoll = 10 * time.Millisecond

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

// Remove stops the entry k, if it is open: it serves nothing more, and requests under way finish
// until ctx ends.
func (r *Router) Remove(ctx context.Context, k Key) error {
	r.mu.Lock()
	e := r.entries[k]
	delete(r.entries, k)
	r.mu.Unlock()
	if e == nil {
		return nil
	}
	return e.srv.Shutdown(ctx)
}

// Close stops every entry.
func (r *Router) Close(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, e := range r.entries {
		errs = append(errs, e.srv.Shutdown(ctx))
	}
	r.entries = nil
	return errors.Join(errs...)
}

// ServeHTTP sends the request to the next backend, round robin.
func (e *entryPoint) ServeHTTP(w http.ResponseWriter, req *http.Request) {
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
