package stack

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/slipway-dev/slipway/baseimages"
)

// busyboxRepository is where `FROM busybox` is looked up on a docker.io mirror: Docker Hub's
// official images live under library/.
const busyboxRepository = "library/busybox:latest"

// seedBusybox makes `FROM busybox` work without internet: buildkitd mirrors docker.io to the
// embedded registry, so it pushes baseimages.Busybox to <registry>/library/busybox:latest when
// that tag is missing. binary is the busybox the image is built from (baseimages.BusyboxBinary);
// when it is missing it logs a warning naming the Debian package and returns. The seed is a
// convenience: every failure is logged as a warning, none stops slipway. push holds the registry's
// push credentials; nil means anonymous.
func seedBusybox(ctx context.Context, log *slog.Logger, registry, binary string, push authn.Keychain) {
	ref := registry + "/" + busyboxRepository
	tag, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		log.Warn("not seeding the busybox base image", "ref", ref, "err", err)
		return
	}
	var opts []remote.Option
	if push != nil {
		opts = append(opts, remote.WithAuthFromKeychain(push))
	}
	_, err = remote.Head(tag, append(opts, remote.WithContext(ctx))...)
	var terr *transport.Error
	switch {
	case err == nil:
		log.Debug("busybox base image already in the registry", "ref", ref)
		return
	case !errors.As(err, &terr) || terr.StatusCode != http.StatusNotFound:
		log.Warn("not seeding the busybox base image: asking the registry for it failed", "ref", ref, "err", err)
		return
	}
	if _, err := os.Stat(binary); err != nil {
		log.Warn("no busybox base image: `FROM busybox` builds need internet access; install the Debian package busybox-static to have one seeded offline",
			"binary", binary, "err", err)
		return
	}
	digest, err := baseimages.Busybox(ctx, ref, opts...)
	if err != nil {
		log.Warn("seeding the busybox base image failed: `FROM busybox` builds need internet access", "ref", ref, "err", err)
		return
	}
	log.Info("seeded the registry with a busybox base image for `FROM busybox`", "ref", ref, "digest", digest.String(), "from", binary)
}
