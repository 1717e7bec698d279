package pack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/evidence-pack/evidence/internal/storage"
)

// ErrChanged is a file read from a pack that is not the file its manifest
// lists: another size or SHA-256, or not listed at all.
var ErrChanged = errors.New("file does not match the manifest")

// CheckedReader reads a file of a pack and checks it against its manifest
// entry as it goes: once the content is longer than the entry says, or at
// EOF when size or SHA-256 differ, Read returns an error wrapping
// ErrChanged instead (so a store fed from it fails its Put, and a reader
// never takes a changed file's end for a good one). Err keeps the error.
type CheckedReader struct {
	r   io.Reader
	h   hash.Hash
	n   int64
	f   File
	err error
}

// Check reads r, the content of the file f describes.
func Check(r io.Reader, f File) *CheckedReader {
	return &CheckedReader{r: r, h: sha256.New(), f: f}
}

func (c *CheckedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	switch {
	case c.n > c.f.Size:
		c.err = fmt.Errorf("%s: more than the manifest's %d bytes: %w", c.f.Path, c.f.Size, ErrChanged)
		return 0, c.err
	case err == io.EOF:
		if sum := hex.EncodeToString(c.h.Sum(nil)); c.n != c.f.Size || sum != c.f.SHA256 {
			c.err = fmt.Errorf("%s: read %d bytes with SHA-256 %s, the manifest says %d bytes with %s: %w", c.f.Path, c.n, sum, c.f.Size, c.f.SHA256, ErrChanged)
			return 0, c.err
		}
	}
	return n, err
}

// Err is the mismatch Read found, if any.
func (c *CheckedReader) Err() error { return c.err }

// Listed is the pack at prefix of s as its manifest m lists it, for
// readers of a published pack's tables: List gives the manifest's files
// (never one it does not list), and a file read through Get is checked
// against its entry (Check).
func Listed(s Reader, prefix string, m Manifest) Reader {
	files := make(map[string]File, len(m.Files))
	for _, f := range m.Files {
		files[f.Path] = f
	}
	return listed{s: Sub(s, prefix), files: files}
}

type listed struct {
	s     Reader
	files map[string]File
}

func (l listed) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	f, ok := l.files[key]
	if !ok {
		return nil, fmt.Errorf("%s: not in the manifest: %w", key, ErrChanged)
	}
	rc, err := l.s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{Check(rc, f), rc}, nil
}

func (l listed) List(ctx context.Context, prefix string, fn func(storage.Object) error) error {
	for _, p := range slices.Sorted(maps.Keys(l.files)) {
		if strings.HasPrefix(p, prefix) {
			if err := fn(storage.Object{Key: p, Size: l.files[p].Size}); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}
