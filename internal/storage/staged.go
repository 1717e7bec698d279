package storage

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// Staged is the part of a Txn that stores staging into a second Store
// share: it forwards Put, Get, List and Delete to Stage while the
// transaction is open, and answers ErrTxnClosed after it ends. A store's
// Txn embeds it and implements Commit and Abort with CommitWith and
// AbortWith.
type Staged struct {
	Stage Store
	Name  string // for messages, e.g. "local: acme/2026-11-21/run"

	// ops is held shared by Put and Delete and exclusively by CommitWith,
	// so that a commit moves a complete set of objects.
	ops    sync.RWMutex
	mu     sync.Mutex
	closed string // "" while open, then "committed" or "aborted"
}

func (s *Staged) check(op, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed != "" {
		return fmt.Errorf("%s: %s %s (%s): %w", s.Name, op, key, s.closed, ErrTxnClosed)
	}
	return nil
}

// Put stores into the staging store.
func (s *Staged) Put(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	s.ops.RLock()
	defer s.ops.RUnlock()
	if err := s.check("put", key); err != nil {
		return Object{}, err
	}
	return s.Stage.Put(ctx, key, r, o)
}

// Get reads from the staging store.
func (s *Staged) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := s.check("get", key); err != nil {
		return nil, err
	}
	return s.Stage.Get(ctx, key)
}

// List lists the staging store. It does not hold ops: fn may call the
// Txn's other methods.
func (s *Staged) List(ctx context.Context, prefix string, fn func(Object) error) error {
	if err := s.check("list", prefix); err != nil {
		return err
	}
	return s.Stage.List(ctx, prefix, fn)
}

// Delete deletes from the staging store.
func (s *Staged) Delete(ctx context.Context, key string) error {
	s.ops.RLock()
	defer s.ops.RUnlock()
	if err := s.check("delete", key); err != nil {
		return err
	}
	return s.Stage.Delete(ctx, key)
}

// CommitWith runs move with writes stopped. When move reports the objects
// moved, the transaction is committed, whatever the error; otherwise it
// stays open and the caller should abort it.
func (s *Staged) CommitWith(ctx context.Context, move func() (moved bool, err error)) error {
	s.ops.Lock()
	defer s.ops.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed != "" {
		return fmt.Errorf("%s: commit (%s): %w", s.Name, s.closed, ErrTxnClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: commit: %w", s.Name, err)
	}
	moved, err := move()
	if moved {
		s.closed = "committed"
	}
	return err
}

// AbortWith ends the transaction and runs drop once. After a commit or an
// abort it does nothing. It does not wait for Puts in progress: they fail.
func (s *Staged) AbortWith(drop func() error) error {
	s.mu.Lock()
	if s.closed != "" {
		s.mu.Unlock()
		return nil
	}
	s.closed = "aborted"
	s.mu.Unlock()
	return drop()
}
