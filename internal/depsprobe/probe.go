// Package depsprobe pins modules the build pipeline packages are being written against; delete it
// once they import them.
package depsprobe

import (
	_ "github.com/go-git/go-git/v5"
	_ "github.com/moby/buildkit/client"
	_ "github.com/moby/buildkit/session/auth/authprovider"
	_ "github.com/moby/buildkit/util/progress/progressui"
)
