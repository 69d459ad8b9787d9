package buildkit

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// cacheCheckTimeout bounds the question whether a build's cache exists in its registry.
const cacheCheckTimeout = 5 * time.Second

// cacheExists says whether the registry has the cache image ref (a first build has none), so that
// buildkitd is not asked to import one that does not exist: it would fill the build log with a
// failed import. Only the registry's "not found" says no; when it cannot tell, buildkitd is asked
// and says what is wrong.
func cacheExists(ctx context.Context, ref string, insecure bool) bool {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return true // buildkitd reports the bad reference
	}
	ctx, cancel := context.WithTimeout(ctx, cacheCheckTimeout)
	defer cancel()
	_, err = remote.Head(r, remote.WithContext(ctx), remote.WithRetryBackoff(remote.Backoff{Steps: 1}))
	var terr *transport.Error
	return !errors.As(err, &terr) || terr.StatusCode != http.StatusNotFound
}
