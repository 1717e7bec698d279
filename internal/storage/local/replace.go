package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/evidence-pack/evidence/internal/storage"
)

var _ storage.Replacer = (*Store)(nil)

// Replace writes key whole, replacing what was there: a temporary file in
// the same folder, fsynced, renamed over the old one, the folder fsynced.
func (s *Store) Replace(ctx context.Context, key string, r io.Reader, o storage.PutOptions) (storage.Object, error) {
	if err := checkKey(key); err != nil {
		return storage.Object{}, fmt.Errorf("local: replace: %w", err)
	}
	final := s.path(key)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return storage.Object{}, fmt.Errorf("local: replace %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(final), ".tmp-replace-*")
	if err != nil {
		return storage.Object{}, fmt.Errorf("local: replace %s: %w", key, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	obj, err := func() (storage.Object, error) {
		defer tmp.Close()
		b, err := io.ReadAll(io.LimitReader(storage.ContextReader(ctx, r), storage.MaxReplaceSize+1))
		if err != nil {
			return storage.Object{}, err
		}
		if len(b) > storage.MaxReplaceSize {
			return storage.Object{}, fmt.Errorf("larger than %d bytes", storage.MaxReplaceSize)
		}
		if _, err := tmp.Write(b); err != nil {
			return storage.Object{}, err
		}
		if err := tmp.Chmod(0o644); err != nil {
			return storage.Object{}, err
		}
		return storage.Object{Key: key, Size: int64(len(b)), SHA256: storage.SHA256Hex(b)}, tmp.Sync()
	}()
	if err == nil {
		err = os.Rename(tmp.Name(), final)
	}
	if err == nil {
		err = syncDir(filepath.Dir(final))
	}
	if err != nil {
		return storage.Object{}, fmt.Errorf("local: replace %s: %w", key, err)
	}
	return obj, nil
}
