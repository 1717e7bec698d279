package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/evidence-pack/evidence/internal/storage"
)

// ErrTxnClosed is storage.ErrTxnClosed, named here for callers of this store.
var ErrTxnClosed = storage.ErrTxnClosed

type txnState int

const (
	txnOpen txnState = iota
	txnCommitted
	txnAborted
)

// txn is a pack staged in a hidden directory next to its final place.
type txn struct {
	stage  *Store // rooted at the staging directory; keys relative to the pack
	prefix string // the pack's key in the parent store
	final  string // <root>/<prefix>
	root   string // the parent store's root, where pruning stops

	// ops is held shared by Put and Delete and exclusively by Commit, so
	// that Commit renames a directory nobody is writing into.
	ops sync.RWMutex
	// mu guards state; Commit holds it for the whole rename.
	mu    sync.Mutex
	state txnState
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
	return &txn{stage: &Store{root: staging}, prefix: prefix, final: final, root: s.root}, nil
}

// check returns ErrTxnClosed unless the transaction is open.
func (t *txn) check(op, key string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state != txnOpen {
		return fmt.Errorf("local: %s %s in %s: %w", op, key, t.prefix, ErrTxnClosed)
	}
	return nil
}

func (t *txn) Put(ctx context.Context, key string, r io.Reader, o storage.PutOptions) (storage.Object, error) {
	t.ops.RLock()
	defer t.ops.RUnlock()
	if err := t.check("put", key); err != nil {
		return storage.Object{}, err
	}
	return t.stage.Put(ctx, key, r, o)
}

func (t *txn) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := t.check("get", key); err != nil {
		return nil, err
	}
	return t.stage.Get(ctx, key)
}

// List does not hold ops: fn may call the Txn's other methods.
func (t *txn) List(ctx context.Context, prefix string, fn func(storage.Object) error) error {
	if err := t.check("list", prefix); err != nil {
		return err
	}
	return t.stage.List(ctx, prefix, fn)
}

func (t *txn) Delete(ctx context.Context, key string) error {
	t.ops.RLock()
	defer t.ops.RUnlock()
	if err := t.check("delete", key); err != nil {
		return err
	}
	return t.stage.Delete(ctx, key)
}

// Commit makes the pack visible at its prefix at once. On ErrExist (another
// run committed the same prefix meanwhile) or any other error the
// transaction stays open and the caller should Abort it.
func (t *txn) Commit(ctx context.Context) error {
	t.ops.Lock()
	defer t.ops.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state != txnOpen {
		return fmt.Errorf("local: commit %s: %w", t.prefix, ErrTxnClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local: commit %s: %w", t.prefix, err)
	}
	staging := t.stage.root
	// Files and the directories holding them were fsynced by Put; this
	// makes the staging directory's own entries durable before it moves.
	if err := syncDir(staging); err != nil {
		return fmt.Errorf("local: commit %s: %w", t.prefix, err)
	}
	if err := renameNoReplace(staging, t.final, true); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("local: commit %s: %w", t.prefix, storage.ErrExist)
		}
		return fmt.Errorf("local: commit %s: %w", t.prefix, err)
	}
	if err := syncDir(filepath.Dir(t.final)); err != nil {
		// The pack is visible but may not survive a crash. Put it back so
		// that a failed Commit leaves nothing at the prefix.
		if rerr := os.Rename(t.final, staging); rerr != nil {
			t.state = txnCommitted
			return fmt.Errorf("local: commit %s: %w (and moving it back failed: %v)", t.prefix, err, rerr)
		}
		return fmt.Errorf("local: commit %s: %w", t.prefix, err)
	}
	t.state = txnCommitted
	return nil
}

// Abort removes the staging directory, then its parents if they are left
// empty. It does not wait for Puts in progress: they fail.
func (t *txn) Abort(_ context.Context) error {
	t.mu.Lock()
	if t.state != txnOpen {
		t.mu.Unlock()
		return nil
	}
	t.state = txnAborted
	t.mu.Unlock()

	staging := t.stage.root
	var err error
	for range mkdirAttempts {
		// A Put in progress may add a file while RemoveAll runs ("directory
		// not empty"); it cannot recreate the staging directory itself.
		if err = os.RemoveAll(staging); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("local: abort %s: %w", t.prefix, err)
	}
	pruneEmpty(t.root, filepath.Dir(staging))
	return nil
}
