package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/evidence-pack/evidence/internal/storage"
)

// ErrTxnClosed is storage.ErrTxnClosed, named here for callers of this store.
var ErrTxnClosed = storage.ErrTxnClosed

// manifestName is the pack file written last; Abort deletes it first.
const manifestName = "manifest.json"

type txnState int

const (
	txnOpen txnState = iota
	txnCommitted
	txnAborted
)

// txn is a pack written straight under its prefix; see the package
// documentation.
type txn struct {
	s      *Store
	prefix string // the pack's store key

	// ops is held shared by Put and Delete and exclusively by Commit, so
	// that Commit returns only once every write has ended.
	ops sync.RWMutex
	// mu guards state and written.
	mu      sync.Mutex
	state   txnState
	written map[string]bool // keys (relative to prefix) this txn stored
}

var _ storage.Txn = (*txn)(nil)

// Begin starts a pack at prefix. It fails with storage.ErrExist when an
// object named prefix or any object under "<prefix>/" exists, or when a
// Txn of this Store is open on prefix, on a prefix above it or below it.
func (s *Store) Begin(ctx context.Context, prefix string) (storage.Txn, error) {
	if err := storage.CleanKey(prefix); err != nil {
		return nil, fmt.Errorf("s3: begin: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("s3: begin %s: %w", prefix, err)
	}
	if err := s.claim(prefix); err != nil {
		return nil, fmt.Errorf("s3: begin %s: %w", prefix, err)
	}
	if err := s.checkFree(ctx, prefix); err != nil {
		s.unclaim(prefix)
		return nil, fmt.Errorf("s3: begin %s: %w", prefix, err)
	}
	return &txn{s: s, prefix: prefix, written: map[string]bool{}}, nil
}

// claim registers prefix as staged by an open Txn unless it overlaps
// another open Txn's, or a pack committed empty by this Store.
func (s *Store) claim(prefix string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	overlaps := func(p string) bool {
		return p == prefix || strings.HasPrefix(prefix, p+"/") || strings.HasPrefix(p, prefix+"/")
	}
	for p := range s.staging {
		if overlaps(p) {
			return fmt.Errorf("a pack is being written at %s: %w", p, storage.ErrExist)
		}
	}
	for p := range s.emptyPacks {
		if overlaps(p) {
			return fmt.Errorf("a pack was committed at %s: %w", p, storage.ErrExist)
		}
	}
	s.staging[prefix] = true
	return nil
}

func (s *Store) unclaim(prefix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.staging, prefix)
}

// checkFree fails with storage.ErrExist if the bucket holds an object
// named prefix or any object under "<prefix>/".
func (s *Store) checkFree(ctx context.Context, prefix string) error {
	ok, _, err := s.exists(ctx, s.root+prefix)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("an object %s exists: %w", prefix, storage.ErrExist)
	}
	errFound := errors.New("found")
	var found string
	err = s.list(ctx, prefix+"/", func(key string, _ int64) error {
		found = key
		return errFound
	})
	if errors.Is(err, errFound) {
		return fmt.Errorf("%s exists: %w", found, storage.ErrExist)
	}
	return err
}

func (t *txn) check(op, key string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state != txnOpen {
		return fmt.Errorf("s3: %s %s in %s: %w", op, key, t.prefix, ErrTxnClosed)
	}
	return nil
}

// Put stores r at "<prefix>/key".
func (t *txn) Put(ctx context.Context, key string, r io.Reader, o storage.PutOptions) (storage.Object, error) {
	if err := storage.CleanKey(key); err != nil {
		return storage.Object{}, fmt.Errorf("s3: put: %w", err)
	}
	t.ops.RLock()
	defer t.ops.RUnlock()
	if err := t.check("put", key); err != nil {
		return storage.Object{}, err
	}
	name := t.s.root + t.prefix + "/" + key
	obj, err := t.s.put(ctx, name, r, o)
	if err != nil {
		return storage.Object{}, fmt.Errorf("s3: put %s in %s: %w", key, t.prefix, err)
	}
	t.mu.Lock()
	aborted := t.state == txnAborted
	if !aborted {
		t.written[key] = true
	}
	t.mu.Unlock()
	if aborted {
		// Abort ran while this Put was in progress and could not see it.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if err := t.s.delete(dctx, name); err != nil {
			t.s.log.Warn("s3: could not delete an object of an aborted pack", "bucket", t.s.bucket, "object", name, "err", err)
		}
		return storage.Object{}, fmt.Errorf("s3: put %s in %s: %w", key, t.prefix, ErrTxnClosed)
	}
	obj.Key = key
	return obj, nil
}

// Get reads "<prefix>/key"; the pack's objects are visible to its Txn.
func (t *txn) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := storage.CleanKey(key); err != nil {
		return nil, fmt.Errorf("s3: get: %w", err)
	}
	if err := t.check("get", key); err != nil {
		return nil, err
	}
	rc, err := t.s.get(ctx, t.s.root+t.prefix+"/"+key)
	if err != nil {
		return nil, fmt.Errorf("s3: get %s in %s: %w", key, t.prefix, err)
	}
	return rc, nil
}

// List lists the pack's objects under prefix, with keys relative to the pack.
func (t *txn) List(ctx context.Context, prefix string, fn func(storage.Object) error) error {
	if err := t.check("list", prefix); err != nil {
		return err
	}
	base := t.prefix + "/"
	return t.s.list(ctx, base+prefix, func(key string, size int64) error {
		return fn(storage.Object{Key: strings.TrimPrefix(key, base), Size: size})
	})
}

// Delete removes "<prefix>/key".
func (t *txn) Delete(ctx context.Context, key string) error {
	if err := storage.CleanKey(key); err != nil {
		return fmt.Errorf("s3: delete: %w", err)
	}
	t.ops.RLock()
	defer t.ops.RUnlock()
	if err := t.check("delete", key); err != nil {
		return err
	}
	if err := t.s.delete(ctx, t.s.root+t.prefix+"/"+key); err != nil {
		return fmt.Errorf("s3: delete %s in %s: %w", key, t.prefix, err)
	}
	t.mu.Lock()
	delete(t.written, key)
	t.mu.Unlock()
	return nil
}

// Commit waits for the Txn's writes in progress and makes the pack visible
// to this Store. The objects are already in place: the pack is complete
// because its writer wrote manifest.json last.
func (t *txn) Commit(ctx context.Context) error {
	t.ops.Lock()
	defer t.ops.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state != txnOpen {
		return fmt.Errorf("s3: commit %s: %w", t.prefix, ErrTxnClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3: commit %s: %w", t.prefix, err)
	}
	t.state = txnCommitted
	t.s.mu.Lock()
	delete(t.s.staging, t.prefix)
	if len(t.written) == 0 {
		t.s.emptyPacks[t.prefix] = true
	}
	t.s.mu.Unlock()
	return nil
}

// Abort deletes every object the Txn wrote, manifest.json first so that a
// partial pack never looks complete, under context.WithoutCancel with a
// timeout. It does not wait for Puts in progress: they delete their object
// when they end. Abort after Commit is a no-op; a second Abort retries the
// deletes that failed.
func (t *txn) Abort(ctx context.Context) error {
	t.mu.Lock()
	if t.state == txnCommitted {
		t.mu.Unlock()
		return nil
	}
	t.state = txnAborted
	keys := slices.Sorted(maps.Keys(t.written))
	t.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if i := slices.Index(keys, manifestName); i >= 0 {
		keys = append([]string{manifestName}, slices.Delete(keys, i, i+1)...)
		// Alone and first: were it to fail, nothing else is deleted.
		if err := t.deleteKeys(ctx, keys[:1]); err != nil {
			return err
		}
		keys = keys[1:]
	}
	err := t.deleteKeys(ctx, keys)
	t.mu.Lock()
	leftover := len(t.written)
	t.mu.Unlock()
	if leftover == 0 {
		t.s.unclaim(t.prefix)
	}
	return err
}

// deleteKeys deletes keys of the pack, Concurrency at a time, forgetting
// each one that is gone.
func (t *txn) deleteKeys(ctx context.Context, keys []string) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	sem := make(chan struct{}, t.s.conc)
	for _, key := range keys {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := t.s.delete(ctx, t.s.root+t.prefix+"/"+key)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
				return
			}
			t.mu.Lock()
			delete(t.written, key)
			t.mu.Unlock()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("s3: abort %s: %w", t.prefix, err)
	}
	return nil
}
