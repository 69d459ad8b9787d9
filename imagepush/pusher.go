package imagepush

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Result is what a push left in the registry.
type Result struct {
	// Digest is the digest of the pushed manifest ("sha256:…"): the build's identity.
	Digest string `json:"digest"`
	// Reference is the image by digest: "<repository>@<digest>".
	Reference string `json:"reference"`
	// Size is the image's size in bytes: the manifest plus every distinct config and compressed
	// layer it references (for an index, plus its child manifests and theirs).
	Size int64 `json:"size"`
	// MediaType is the pushed manifest's media type: an image manifest or an image index.
	MediaType string `json:"mediaType"`
}

// ProgressFunc receives upload progress: done bytes out of total bytes known so far (total grows
// as blobs are scheduled; blobs the registry already holds count as done). ctx is Push's context,
// so an activity can heartbeat with it. It runs on one goroutine while blobs upload and must not
// block for long; a burst of updates is coalesced into one call.
type ProgressFunc func(ctx context.Context, done, total int64)

// Option configures a Pusher.
type Option func(*Pusher)

// WithKeychain resolves credentials per registry from kc, e.g. authn.DefaultKeychain. It replaces
// WithBasicAuth; the last auth option wins. Without either, requests are anonymous.
func WithKeychain(kc authn.Keychain) Option {
	return func(p *Pusher) { p.keychain, p.auth = kc, nil }
}

// WithBasicAuth sends username and password to every registry the Pusher talks to (as basic auth,
// or to get a bearer token). It replaces WithKeychain; the last auth option wins. An empty username
// means anonymous.
func WithBasicAuth(username, password string) Option {
	return func(p *Pusher) {
		p.keychain, p.auth = nil, nil
		if username != "" {
			p.auth = &authn.Basic{Username: username, Password: password}
		}
	}
}

// WithInsecureRegistries lets the named registries ("host" or "host:port", as written in the
// repository) be reached over plain HTTP. Loopback, localhost and private (RFC 1918) addresses
// are always allowed plain HTTP. Default: none.
func WithInsecureRegistries(hosts ...string) Option {
	return func(p *Pusher) { p.insecure = append(p.insecure, hosts...) }
}

// WithAllInsecure lets every registry be reached over plain HTTP. Meant for tests and workstations.
func WithAllInsecure() Option {
	return func(p *Pusher) { p.allInsecure = true }
}

// WithTransport sends requests through rt (custom TLS roots, proxies, test servers).
// Default: remote.DefaultTransport.
func WithTransport(rt http.RoundTripper) Option {
	return func(p *Pusher) { p.transport = rt }
}

// WithProgress calls fn as blobs upload. Default: no progress reports.
func WithProgress(fn ProgressFunc) Option {
	return func(p *Pusher) { p.progress = fn }
}

// Pusher pushes OCI image layouts to registries. It holds configuration only, so one Pusher is
// safe for concurrent use; each Push authenticates anew.
type Pusher struct {
	auth        authn.Authenticator // nil: anonymous, unless keychain is set
	keychain    authn.Keychain
	insecure    []string
	allInsecure bool
	transport   http.RoundTripper
	progress    ProgressFunc
}

// New returns a Pusher configured by opts.
func New(opts ...Option) *Pusher {
	p := &Pusher{}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Push pushes the image (or image index) in the OCI layout at layoutDir to repository, such as
// "127.0.0.1:5000/shop/api", by digest, then points each of tags at it. It is idempotent: blobs
// and manifests the registry already holds are not sent again, so a retried push of a pushed image
// only asks (HEAD) and uploads nothing.
//
// Errors that retrying cannot fix are *Error with an ErrType* type: a missing or corrupt layout,
// an invalid repository or tag, credentials refused, a request the registry rejects. Everything
// else (unreachable registry, 5xx, 429, timeouts, cancellation) is a plain wrapped error, to be
// retried by the caller: Push itself retries at most once, see retryOptions.
func (p *Pusher) Push(ctx context.Context, layoutDir, repository string, tags []string) (Result, error) {
	repo, tagRefs, err := p.references(repository, tags)
	if err != nil {
		return Result{}, err
	}
	art, err := readLayout(layoutDir)
	if err != nil {
		return Result{}, err
	}
	ref := repo.Digest(art.digest.String())

	opts := append(p.remoteOptions(ctx), retryOptions()...)
	if p.progress != nil {
		updates := make(chan v1.Update, 64)
		done := make(chan struct{})
		go func() {
			defer close(done)
			forwardProgress(ctx, updates, p.progress)
		}()
		// Remote closes no channel here (only its package-level Write does): close it once every
		// upload has returned, then wait for the last report.
		defer func() { close(updates); <-done }()
		opts = append(opts, remote.WithProgress(updates))
	}
	rp, err := remote.NewPusher(opts...)
	if err != nil {
		return Result{}, classify("pushing "+ref.Name(), err)
	}
	// One remote.Pusher for the digest and the tags: one ping and token exchange, and blobs and
	// manifests checked once. Push to a tag HEADs it first and PUTs only if it points elsewhere.
	if err := rp.Push(ctx, ref, art.manifest); err != nil {
		return Result{}, classify("pushing "+ref.Name(), err)
	}
	for _, tag := range tagRefs {
		if err := rp.Push(ctx, tag, art.manifest); err != nil {
			return Result{}, classify("tagging "+ref.Name()+" as "+tag.Name(), err)
		}
	}
	return Result{
		Digest:    art.digest.String(),
		Reference: ref.Name(),
		Size:      art.size,
		MediaType: string(art.mediaType),
	}, nil
}

// references parses repository and tags in it. Strict validation refuses a repository without a
// registry host ("shop/api"), which would otherwise mean Docker Hub.
func (p *Pusher) references(repository string, tags []string) (name.Repository, []name.Tag, error) {
	repo, err := name.NewRepository(repository, name.StrictValidation)
	if err != nil {
		return name.Repository{}, nil, permanentf(ErrTypeInvalidReference, "pushing to %q: %w", repository, err)
	}
	if p.allInsecure || slices.Contains(p.insecure, repo.RegistryStr()) {
		repo, err = name.NewRepository(repository, name.StrictValidation, name.Insecure)
		if err != nil {
			return name.Repository{}, nil, permanentf(ErrTypeInvalidReference, "pushing to %q: %w", repository, err)
		}
	}
	refs := make([]name.Tag, 0, len(tags))
	for _, t := range tags {
		tag, err := name.NewTag(repo.Name()+":"+t, name.StrictValidation)
		if err != nil {
			return name.Repository{}, nil, permanentf(ErrTypeInvalidReference, "tagging in %s: tag %q: %w", repo.Name(), t, err)
		}
		// Keep repo's insecure flag, which NewTag did not see.
		refs = append(refs, repo.Tag(tag.TagStr()))
	}
	return repo, refs, nil
}

// remoteOptions are the go-containerregistry options for one Push.
func (p *Pusher) remoteOptions(ctx context.Context) []remote.Option {
	opts := []remote.Option{remote.WithContext(ctx), remote.WithUserAgent("slipway")}
	switch {
	case p.keychain != nil:
		opts = append(opts, remote.WithAuthFromKeychain(p.keychain))
	case p.auth != nil:
		opts = append(opts, remote.WithAuth(p.auth))
	}
	if p.transport != nil {
		opts = append(opts, remote.WithTransport(p.transport))
	}
	return opts
}

// retryOptions hand retries to the caller. Left alone, go-containerregistry retries 5xx, 408,
// 429 and network errors three times per request and per blob upload, sleeping 1 s then 3 s
// without watching the context. Inside a Temporal activity that hides the failure from the
// Temporal UI, multiplies with Temporal's own attempts, and delays cancellation; Temporal's retry
// policy owns retries instead.
//
// The one exception: a connection dropped before the registry answered (ECONNRESET, EPIPE, EOF)
// is retried once, at once, on a new connection. That is nearly always a pooled keep-alive
// connection the registry or a load balancer closed while idle, which Go's HTTP client
// re-dials by itself only for idempotent requests, not for the POST and PATCH of a blob upload.
// Failing the activity for it would cost a Temporal backoff plus a new ping, token and HEAD of
// every blob, to reach the same state.
func retryOptions() []remote.Option {
	return []remote.Option{
		remote.WithRetryStatusCodes(),
		remote.WithRetryPredicate(droppedConnection),
		remote.WithRetryBackoff(remote.Backoff{Duration: 10 * time.Millisecond, Steps: 2}),
	}
}

// droppedConnection reports whether err is a connection the peer closed under us.
func droppedConnection(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// forwardProgress calls fn with the latest update each time some arrive, until updates closes.
func forwardProgress(ctx context.Context, updates <-chan v1.Update, fn ProgressFunc) {
	for u := range updates {
		// Coalesce what queued up while fn ran; stop at a closed channel.
	drain:
		for {
			select {
			case next, ok := <-updates:
				if !ok {
					break drain
				}
				u = next
			default:
				break drain
			}
		}
		if u.Error == nil {
			fn(ctx, u.Complete, u.Total)
		}
	}
}
