// Package storage is where evidence packs are kept: one small interface,
// implemented by a local directory (local/) and S3 (s3/).
//
// Keys are slash-separated relative paths ("acme/2026-11-21/run/manifest.json")
// built from sanitised parts only (see CleanKey); a store refuses keys that
// would leave its root.
package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// ErrNotExist is returned (wrapped) by Get for a key that does not exist.
var ErrNotExist = errors.New("object does not exist")

// ErrExist is returned (wrapped) by Put when the key already exists: stores
// never overwrite evidence.
var ErrExist = errors.New("object already exists")

// ErrTxnClosed is returned (wrapped) by a Txn's methods after Commit or
// Abort.
var ErrTxnClosed = errors.New("transaction already committed or aborted")

// Object is a stored file.
type Object struct {
	Key    string
	Size   int64
	SHA256 string // lower-case hex; set by Put (computed while storing), empty from List
}

// PutOptions describe an object being stored.
type PutOptions struct {
	ContentType string
	Metadata    map[string]string
}

// Store keeps objects. Implementations are safe for concurrent use.
type Store interface {
	// Put stores r under key, computing size and SHA-256 while it reads (the
	// content is read once). It fails with ErrExist if key exists. On error
	// nothing is left under key.
	Put(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error)
	// Get opens key for reading; errors.Is(err, ErrNotExist) when absent.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// List calls fn for every object whose key starts with prefix, in key
	// order. Objects carry Key and Size.
	List(ctx context.Context, prefix string, fn func(Object) error) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Txn is a pack being written: Put into it, then Commit makes every object
// visible at once (local: a directory rename), or Abort removes them.
type Txn interface {
	Store
	Commit(ctx context.Context) error
	Abort(ctx context.Context) error
}

// Beginner is a Store that can stage a pack under prefix. Begin fails with
// ErrExist when prefix already holds a pack.
type Beginner interface {
	Begin(ctx context.Context, prefix string) (Txn, error)
}

// StaleRemover is a Store whose unfinished writes can outlive a run killed
// without cleanup (kill -9): RemoveStale removes those under prefix in which
// nothing changed after cutoff, and returns their keys.
type StaleRemover interface {
	RemoveStale(ctx context.Context, prefix string, cutoff time.Time) ([]string, error)
}

// CleanKey checks a key: relative, slash-separated, no "." or ".." parts, no
// empty parts, no backslashes or control characters.
func CleanKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
		return fmt.Errorf("storage key %q: must be a relative path", key)
	}
	if path.Clean(key) != key {
		return fmt.Errorf("storage key %q: not clean", key)
	}
	for _, part := range strings.Split(key, "/") {
		if part == "." || part == ".." || part == "" {
			return fmt.Errorf("storage key %q: bad part %q", key, part)
		}
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return fmt.Errorf("storage key %q: control character or backslash", key)
		}
	}
	return nil
}

// SafePart turns any string (an account name, a framework title) into one
// key part: letters, digits, '-', '_', '.', '=' kept; runs of anything else
// become '_'; never empty, never "." or "..", at most 100 bytes.
func SafePart(s string) string {
	var b strings.Builder
	under := false
	for _, r := range s {
		ok := r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == '=')
		if ok {
			b.WriteRune(r)
			under = false
		} else if !under {
			b.WriteByte('_')
			under = true
		}
	}
	out := strings.Trim(b.String(), "_.")
	if len(out) > 100 {
		out = out[:100]
	}
	if out == "" {
		out = "_"
	}
	return out
}

// ContextReader returns a reader that checks ctx before every Read, so a long
// copy stops between two chunks once ctx is done.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Replacer is a Store that can also replace an object whole. It is for the
// small pointer and state objects kept beside packs (latest.json,
// state.json), never for the files of a pack, which are written once.
// Replace reads r (at most MaxReplaceSize bytes) before it writes anything.
type Replacer interface {
	Replace(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error)
}

// MaxReplaceSize bounds what Replace accepts: pointers, not data.
const MaxReplaceSize = 1 << 20

// SHA256Hex is the lower-case hex SHA-256 of b.
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
