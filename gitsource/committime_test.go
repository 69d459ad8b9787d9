package gitsource

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

func TestCheckoutCommitReturnsTheCommitterTime(t *testing.T) {
	r := newTestRepo(t)
	if err := os.WriteFile(filepath.Join(r.dir, "README.md"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wt, err := r.repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add("README.md"); err != nil {
		t.Fatal(err)
	}
	// Authored a day before it was committed (a rebase, say), in another time zone.
	authored := object.Signature{Name: "A", Email: "a@example.com", When: epoch.Add(-24 * time.Hour)}
	committed := object.Signature{Name: "C", Email: "c@example.com", When: epoch.In(time.FixedZone("X", 5*3600))}
	sha, err := wt.Commit("hi", &git.CommitOptions{Author: &authored, Committer: &committed})
	if err != nil {
		t.Fatal(err)
	}
	at, err := CheckoutCommit(context.Background(), r.fileURL(), sha.String(), filepath.Join(t.TempDir(), "src"), Auth{})
	if err != nil {
		t.Fatal(err)
	}
	if !at.Equal(epoch) || at.Location() != time.UTC {
		t.Fatalf("CheckoutCommit = %v, want the committer time %v in UTC", at, epoch)
	}
}
