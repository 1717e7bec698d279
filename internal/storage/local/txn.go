package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/evidence-pack/evidence/internal/storage"
)

// ErrTxnClosed is storage.ErrTxnClosed, named here for callers of this store.
var ErrTxnClosed = storage.ErrTxnClosed

// txn is a pack staged in a hidden directory next to its final place.
type txn struct {
	storage.Staged        // Put, Get, List, Delete into the staging directory
	staging        string // the staging directory
	prefix         string // the pack's key in the parent store
	final          string // <root>/<prefix>
	root           string // the parent store's root, where pruning stops
}

var _ storage.Txn = (*txn)(nil)

// Begin stages a pack that Commit will make visible at prefix. It fails with
// storage.ErrExist when prefix already exists (a file or a directory): a
// rerun never overwrites an earlier pack. Several transactions may stage the
// same prefix; the first Commit wins and the others fail with ErrExist.
func (s *Store) Begin(ctx context.Context, prefix string) (storage.Txn, error) {
	if err := checkKey(prefix); err != nil {
		return nil, fmt.Errorf("local: begin: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("local: begin %s: %w", prefix, err)
	}
	final := s.path(prefix)
	if _, err := os.Lstat(final); err == nil {
		return nil, fmt.Errorf("local: begin %s: %w", prefix, storage.ErrExist)
	} else if !notExist(err) {
		return nil, fmt.Errorf("local: begin %s: %w", prefix, err)
	}
	parent := filepath.Dir(final)
	pattern := stagingPrefix + storage.SafePart(filepath.Base(final)) + "-*"
	var staging string
	for attempt := 1; ; attempt++ {
		err := mkdirAll(s.root, parent)
		if err == nil {
			staging, err = os.MkdirTemp(parent, pattern)
		}
		if err == nil {
			break
		}
		// A concurrent Delete or Abort may prune parent between the two
		// calls; anything else is final.
		if !notExist(err) || attempt == mkdirAttempts {
			return nil, fmt.Errorf("local: begin %s: %w", prefix, err)
		}
	}
	if err := os.Chmod(staging, dirPerm); err != nil { // MkdirTemp makes it 0700
		_ = os.Remove(staging)
		return nil, fmt.Errorf("local: begin %s: %w", prefix, err)
	}
	return &txn{Staged: storage.Staged{Stage: &Store{root: staging}, Name: "local: " + prefix},
		staging: staging, prefix: prefix, final: final, root: s.root}, nil
}

// Commit makes the pack visible at its prefix at once. On ErrExist (another
// run committed the same prefix meanwhile) or any other error the
// transaction stays open and the caller should Abort it.
func (t *txn) Commit(ctx context.Context) error {
	return t.CommitWith(ctx, func() (bool, error) {
		// Files and the directories holding them were fsynced by Put; this
		// makes the staging directory's own entries durable before it moves.
		if err := syncDir(t.staging); err != nil {
			return false, fmt.Errorf("local: commit %s: %w", t.prefix, err)
		}
		if err := renameNoReplace(t.staging, t.final, true); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return false, fmt.Errorf("local: commit %s: %w", t.prefix, storage.ErrExist)
			}
			return false, fmt.Errorf("local: commit %s: %w", t.prefix, err)
		}
		if err := syncDir(filepath.Dir(t.final)); err != nil {
			// The pack is visible but may not survive a crash. Put it back
			// so that a failed Commit leaves nothing at the prefix.
			if rerr := os.Rename(t.final, t.staging); rerr != nil {
				return true, fmt.Errorf("local: commit %s: %w (and moving it back failed: %v)", t.prefix, err, rerr)
			}
			return false, fmt.Errorf("local: commit %s: %w", t.prefix, err)
		}
		return true, nil
	})
}

// Abort removes the staging directory, then its parents if they are left
// empty. It does not wait for Puts in progress: they fail.
func (t *txn) Abort(_ context.Context) error {
	return t.AbortWith(func() error {
		var err error
		for range mkdirAttempts {
			// A Put in progress may add a file while RemoveAll runs ("directory
			// not empty"); it cannot recreate the staging directory itself.
			if err = os.RemoveAll(t.staging); err == nil {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("local: abort %s: %w", t.prefix, err)
		}
		pruneEmpty(t.root, filepath.Dir(t.staging))
		return nil
	})
}
