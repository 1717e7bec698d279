package memstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// chunkSize is how much Put reads between two context checks.
const chunkSize = 64 << 10

type object struct {
	data   []byte // never modified once stored
	sha256 string
	opts   storage.PutOptions
}

// Store is an in-memory store. The zero value is not usable; call New.
type Store struct {
	mu      sync.RWMutex
	objects map[string]object
	packs   map[string]bool // prefixes committed by a Txn
}

var (
	_ storage.Store    = (*Store)(nil)
	_ storage.Beginner = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{objects: map[string]object{}, packs: map[string]bool{}}
}

// Put stores r under key, reading it once.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, o storage.PutOptions) (storage.Object, error) {
	if err := storage.CleanKey(key); err != nil {
		return storage.Object{}, fmt.Errorf("memstore: put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return storage.Object{}, fmt.Errorf("memstore: put %s: %w", key, err)
	}
	if s.exists(key) { // fail before reading the content
		return storage.Object{}, fmt.Errorf("memstore: put %s: %w", key, storage.ErrExist)
	}
	data, sum, err := readAll(ctx, r)
	if err != nil {
		return storage.Object{}, fmt.Errorf("memstore: put %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objects[key]; ok {
		return storage.Object{}, fmt.Errorf("memstore: put %s: %w", key, storage.ErrExist)
	}
	s.objects[key] = object{data: data, sha256: sum, opts: cloneOpts(o)}
	return storage.Object{Key: key, Size: int64(len(data)), SHA256: sum}, nil
}

func (s *Store) exists(key string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.objects[key]
	return ok
}

// readAll reads r in chunks, checking ctx before each, and hashes it.
func readAll(ctx context.Context, r io.Reader) ([]byte, string, error) {
	var buf bytes.Buffer
	h := sha256.New()
	chunk := make([]byte, chunkSize)
	for {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		n, err := r.Read(chunk)
		buf.Write(chunk[:n])
		h.Write(chunk[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "", fmt.Errorf("read: %w", err)
		}
	}
	// A cancel during the last read still wins, as in the other stores.
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), hex.EncodeToString(h.Sum(nil)), nil
}

func cloneOpts(o storage.PutOptions) storage.PutOptions {
	o.Metadata = maps.Clone(o.Metadata)
	return o
}

// Get returns a reader over key's content.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := storage.CleanKey(key); err != nil {
		return nil, fmt.Errorf("memstore: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: get %s: %w", key, err)
	}
	s.mu.RLock()
	o, ok := s.objects[key]
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("memstore: get %s: %w", key, storage.ErrNotExist)
	}
	return io.NopCloser(bytes.NewReader(o.data)), nil
}

// List calls fn, in key order, for every object whose key starts with
// prefix, from a snapshot taken when List starts.
func (s *Store) List(ctx context.Context, prefix string, fn func(storage.Object) error) error {
	s.mu.RLock()
	var objs []storage.Object
	for k, o := range s.objects {
		if strings.HasPrefix(k, prefix) {
			objs = append(objs, storage.Object{Key: k, Size: int64(len(o.data))})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(objs, func(a, b storage.Object) int { return strings.Compare(a.Key, b.Key) })
	for _, o := range objs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("memstore: list %q: %w", prefix, err)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := storage.CleanKey(key); err != nil {
		return fmt.Errorf("memstore: delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete %s: %w", key, err)
	}
	s.mu.Lock()
	delete(s.objects, key)
	s.mu.Unlock()
	return nil
}

// ContentType returns the PutOptions.ContentType key was stored with, for
// tests that check what a writer declared.
func (s *Store) ContentType(key string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.objects[key]
	return o.opts.ContentType, ok
}

// occupiedLocked reports whether prefix holds an object or a committed pack.
func (s *Store) occupiedLocked(prefix string) bool {
	if s.packs[prefix] {
		return true
	}
	if _, ok := s.objects[prefix]; ok {
		return true
	}
	for k := range s.objects {
		if strings.HasPrefix(k, prefix+"/") {
			return true
		}
	}
	return false
}

// Begin stages a pack for prefix; it fails with storage.ErrExist when prefix
// already holds an object or a committed pack.
func (s *Store) Begin(ctx context.Context, prefix string) (storage.Txn, error) {
	if err := storage.CleanKey(prefix); err != nil {
		return nil, fmt.Errorf("memstore: begin: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: begin %s: %w", prefix, err)
	}
	s.mu.RLock()
	occupied := s.occupiedLocked(prefix)
	s.mu.RUnlock()
	if occupied {
		return nil, fmt.Errorf("memstore: begin %s: %w", prefix, storage.ErrExist)
	}
	stage := New()
	return &txn{Staged: storage.Staged{Stage: stage, Name: "memstore: " + prefix}, parent: s, prefix: prefix, stage: stage}, nil
}

type txn struct {
	storage.Staged // Put, Get, List, Delete into stage
	parent         *Store
	prefix         string
	stage          *Store
}

var _ storage.Txn = (*txn)(nil)

// Commit moves the staged objects under prefix at once. On error the
// transaction stays open; the caller should Abort it.
func (t *txn) Commit(ctx context.Context) error {
	return t.CommitWith(ctx, func() (bool, error) {
		p := t.parent
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.occupiedLocked(t.prefix) {
			return false, fmt.Errorf("memstore: commit %s: %w", t.prefix, storage.ErrExist)
		}
		t.stage.mu.RLock()
		for k, o := range t.stage.objects {
			p.objects[t.prefix+"/"+k] = o
		}
		t.stage.mu.RUnlock()
		p.packs[t.prefix] = true
		return true, nil
	})
}

// Abort drops the staged objects. Abort after Commit or Abort does nothing.
func (t *txn) Abort(_ context.Context) error {
	return t.AbortWith(func() error {
		t.stage.mu.Lock()
		clear(t.stage.objects)
		t.stage.mu.Unlock()
		return nil
	})
}

var _ storage.Replacer = (*Store)(nil)

// Replace sets key whole, replacing what was there.
func (s *Store) Replace(ctx context.Context, key string, r io.Reader, o storage.PutOptions) (storage.Object, error) {
	if err := storage.CleanKey(key); err != nil {
		return storage.Object{}, fmt.Errorf("memstore: replace: %w", err)
	}
	data, sum, err := readAll(ctx, io.LimitReader(r, storage.MaxReplaceSize+1))
	if err != nil {
		return storage.Object{}, fmt.Errorf("memstore: replace %s: %w", key, err)
	}
	if len(data) > storage.MaxReplaceSize {
		return storage.Object{}, fmt.Errorf("memstore: replace %s: larger than %d bytes", key, storage.MaxReplaceSize)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[key] = object{data: data, sha256: sum, opts: cloneOpts(o)}
	return storage.Object{Key: key, Size: int64(len(data)), SHA256: sum}, nil
}
