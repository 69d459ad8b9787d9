package gitsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// SearchDepth is how many commits of each branch's history are fetched to find the commit a short
// SHA names. Older commits must be named by their full SHA.
const SearchDepth = 1000

// remote is one repository being read, with the credentials for it.
type remote struct {
	url  string
	auth transport.AuthMethod
	ep   *transport.Endpoint
}

// newRemote checks repo and prepares its credentials; its errors are not scrubbed yet.
func newRemote(repo string, a Auth) (*remote, error) {
	ep, err := endpoint(repo)
	if err != nil {
		return nil, err
	}
	m, err := a.method(ep)
	if err != nil {
		return nil, err
	}
	return &remote{url: repo, auth: m, ep: ep}, nil
}

// endpoint parses repo as a Git URL with a scheme gitsource can fetch from.
func endpoint(repo string) (*transport.Endpoint, error) {
	if repo == "" {
		return nil, fmt.Errorf("%w: empty repository URL", ErrRepoNotFound)
	}
	ep, err := transport.NewEndpoint(repo)
	if err != nil {
		return nil, fmt.Errorf("%w: not a Git URL: %v", ErrRepoNotFound, err)
	}
	switch ep.Protocol {
	case "http", "https", "ssh", "git", "file":
		return ep, nil
	}
	return nil, fmt.Errorf("%w: unsupported URL scheme %q", ErrRepoNotFound, ep.Protocol)
}

// advertised is what the server tells before a fetch, as `git ls-remote` shows it.
type advertised struct {
	// head is the commit HEAD points at; zero if the server advertises no HEAD.
	head plumbing.Hash
	// refs maps ref names to what they point at: tag objects peeled to their target.
	refs map[plumbing.ReferenceName]plumbing.Hash
	// objects maps the hash of each advertised object, tag objects included, to the commit
	// (peeled hash) it stands for.
	objects map[plumbing.Hash]plumbing.Hash
	caps    *capability.List
}

// advertise lists the remote's refs and capabilities.
func (r *remote) advertise(ctx context.Context) (adv *advertised, err error) {
	t, err := client.NewClient(r.ep)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRepoNotFound, err)
	}
	sess, err := t.NewUploadPackSession(r.ep, r.auth)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	defer func() {
		if cerr := sess.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing the connection: %w", cerr)
		}
	}()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing refs: %w", err)
	}
	adv = &advertised{
		refs:    make(map[plumbing.ReferenceName]plumbing.Hash, len(ar.References)),
		objects: make(map[plumbing.Hash]plumbing.Hash, len(ar.References)),
		caps:    ar.Capabilities,
	}
	for name, h := range ar.References {
		target := h
		if p, ok := ar.Peeled[name]; ok {
			target = p
		}
		adv.refs[plumbing.ReferenceName(name)] = target
		adv.objects[h] = target
		adv.objects[target] = target
	}
	if ar.Head != nil {
		adv.head = *ar.Head
		adv.objects[adv.head] = adv.head
	}
	return adv, nil
}

// lookup finds a branch or tag by name as `git rev-parse` does: a full ref name, then a tag,
// then a branch.
func (a *advertised) lookup(name string) (plumbing.Hash, bool) {
	for _, candidate := range []string{name, "refs/" + name, "refs/tags/" + name, "refs/heads/" + name} {
		if !strings.HasPrefix(candidate, "refs/") {
			continue
		}
		if h, ok := a.refs[plumbing.ReferenceName(candidate)]; ok {
			return h, true
		}
	}
	return plumbing.ZeroHash, false
}

// tip returns a ref whose commit is h, preferring branches, so that fetching it at depth 1
// fetches exactly h.
func (a *advertised) tip(h plumbing.Hash) (plumbing.ReferenceName, bool) {
	var names []string
	for name, target := range a.refs {
		if target == h {
			names = append(names, string(name))
		}
	}
	if len(names) == 0 {
		return "", false
	}
	sort.Slice(names, func(i, j int) bool {
		bi, bj := strings.HasPrefix(names[i], "refs/heads/"), strings.HasPrefix(names[j], "refs/heads/")
		if bi != bj {
			return bi
		}
		return names[i] < names[j]
	})
	return plumbing.ReferenceName(names[0]), true
}

// store is a scratch object store in a directory of its own.
type store struct {
	*filesystem.Storage
	dir string
}

// newStore makes an empty bare repository in a new directory under base.
func newStore(base string) (*store, error) {
	dir, err := os.MkdirTemp(base, "objects-")
	if err != nil {
		return nil, err
	}
	st := filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRUDefault())
	if _, err := git.Init(st, nil); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	return &store{Storage: st, dir: dir}, nil
}

// discard closes the store and deletes its directory.
func (s *store) discard() error {
	return errors.Join(s.Close(), os.RemoveAll(s.dir))
}

// fetch fetches specs into st, depth commits deep (0: all history), following no tags.
func (r *remote) fetch(ctx context.Context, st storage.Storer, depth int, specs ...config.RefSpec) error {
	rem := git.NewRemote(st, &config.RemoteConfig{Name: git.DefaultRemoteName, URLs: []string{r.url}})
	err := rem.FetchContext(ctx, &git.FetchOptions{
		RefSpecs: specs,
		Depth:    depth,
		Auth:     r.auth,
		Tags:     git.NoTags,
		Force:    true,
	})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

// fetchCommit fetches commit h and its tree into a new store under base, as shallow as the
// server allows: depth 1 when h is a ref's tip or the server lets clients ask for any reachable
// commit; otherwise the branches' recent history, then all history, until h turns up. The
// caller discards the store. A commit the repository does not hold is ErrUnknownRef.
func (r *remote) fetchCommit(ctx context.Context, adv *advertised, h plumbing.Hash, base string) (*store, error) {
	attempt := func(depth int, specs ...config.RefSpec) (*store, bool, error) {
		st, err := newStore(base)
		if err != nil {
			return nil, false, err
		}
		if err := r.fetch(ctx, st, depth, specs...); err != nil {
			return nil, false, errors.Join(err, st.discard())
		}
		if _, err := st.EncodedObject(plumbing.CommitObject, h); err != nil {
			if errors.Is(err, plumbing.ErrObjectNotFound) {
				return nil, false, st.discard()
			}
			return nil, false, errors.Join(err, st.discard())
		}
		return st, true, nil
	}

	if name, ok := adv.tip(h); ok {
		st, found, err := attempt(1, config.RefSpec("+"+string(name)+":refs/slipway/tip"))
		if err != nil || found {
			return st, err
		}
		// The ref moved between listing and fetching: look for h the slow way.
	}
	if adv.caps.Supports(capability.AllowReachableSHA1InWant) {
		st, found, err := attempt(1, config.RefSpec("+"+h.String()+":refs/slipway/commit"))
		switch {
		case found:
			return st, nil
		case err == nil, isNotOurRef(err):
			return nil, fmt.Errorf("%w: no commit %s", ErrUnknownRef, h)
		case ctx.Err() != nil, classify(err) != nil:
			return nil, err
		}
		// Over ssh and file URLs, git hangs up as soon as it reads a want it does not hold, and
		// go-git often reports the broken pipe instead of git's "not our ref": only the history
		// tells whether h exists.
	}
	for _, pass := range []struct {
		depth int
		specs []config.RefSpec
	}{
		{SearchDepth, []config.RefSpec{"+refs/heads/*:refs/slipway/heads/*"}},
		{0, []config.RefSpec{"+refs/heads/*:refs/slipway/heads/*", "+refs/tags/*:refs/slipway/tags/*"}},
	} {
		st, found, err := attempt(pass.depth, pass.specs...)
		if err != nil || found {
			return st, err
		}
	}
	return nil, fmt.Errorf("%w: no commit %s on any branch or tag", ErrUnknownRef, h)
}

// isNotOurRef reports whether the server refused a wanted object because it does not hold it
// (or holds it unreachable), which git reports as "not our ref".
func isNotOurRef(err error) bool {
	return err != nil && strings.Contains(err.Error(), "not our ref")
}

// commitsWithPrefix returns the commits whose SHA starts with prefix among the advertised tips
// and the last SearchDepth commits of every branch.
func (r *remote) commitsWithPrefix(ctx context.Context, adv *advertised, prefix, base string) (_ []string, err error) {
	found := map[string]bool{}
	for _, target := range adv.objects {
		if s := target.String(); strings.HasPrefix(s, prefix) {
			found[s] = true
		}
	}
	st, err := newStore(base)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.discard()) }()
	if err := r.fetch(ctx, st, SearchDepth, "+refs/heads/*:refs/slipway/heads/*"); err != nil {
		return nil, err
	}
	iter, err := st.IterEncodedObjects(plumbing.CommitObject)
	if err != nil {
		return nil, err
	}
	err = iter.ForEach(func(o plumbing.EncodedObject) error {
		if s := o.Hash().String(); strings.HasPrefix(s, prefix) {
			found[s] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(found))
	for s := range found {
		out = append(out, s)
	}
	sort.Strings(out)
	return out, nil
}
