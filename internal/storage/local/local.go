package local

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/evidence-pack/evidence/internal/storage"
)

const (
	filePerm = 0o644
	dirPerm  = 0o755

	// Reserved name prefixes: the store's temporary files and staging
	// directories. Keys may not use them, List never shows them.
	tempPrefix    = ".tmp-"
	stagingPrefix = ".staging-"

	// copyBufSize is how much Put reads between two context checks.
	copyBufSize = 256 << 10

	// mkdirAttempts bounds the retries when a concurrent Delete or Abort
	// prunes a directory between its creation and its use.
	mkdirAttempts = 3
)

// errNoRenameat2 is what renameat2NoReplace returns where the platform has
// no renameat2.
var errNoRenameat2 = errors.New("renameat2 not available")

// Store is a directory store. Create it with New.
type Store struct {
	root string // absolute, clean
}

var (
	_ storage.Store    = (*Store)(nil)
	_ storage.Beginner = (*Store)(nil)
)

// New returns a store rooted at root, creating the directory (0755) if needed.
func New(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("local: empty root directory")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("local: root %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, dirPerm); err != nil {
		return nil, fmt.Errorf("local: create root: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("local: root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("local: root %s is not a directory", abs)
	}
	return &Store{root: abs}, nil
}

// Root is the absolute directory the store keeps its objects in.
func (s *Store) Root() string { return s.root }

// Path is the file name of key (which need not exist), or an error if key is
// not a valid key. It lets tools such as `sha256sum -c` work on the files.
func (s *Store) Path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return s.path(key), nil
}

func (s *Store) path(key string) string { return filepath.Join(s.root, filepath.FromSlash(key)) }

// checkKey is storage.CleanKey plus the store's reserved names.
func checkKey(key string) error {
	if err := storage.CleanKey(key); err != nil {
		return err
	}
	for part := range strings.SplitSeq(key, "/") {
		if reserved(part) {
			return fmt.Errorf("storage key %q: part %q starts with a name reserved for the store's temporary files", key, part)
		}
	}
	return nil
}

func reserved(name string) bool {
	return strings.HasPrefix(name, tempPrefix) || strings.HasPrefix(name, stagingPrefix)
}

// notExist reports whether err means that a path is absent: ENOENT, or
// ENOTDIR when a parent is a file.
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Put stores r under key; see the package documentation.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, _ storage.PutOptions) (obj storage.Object, err error) {
	if err := checkKey(key); err != nil {
		return storage.Object{}, fmt.Errorf("local: put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return storage.Object{}, fmt.Errorf("local: put %s: %w", key, err)
	}
	final := s.path(key)
	// Fail early, before reading the content; the rename below is what
	// guarantees no overwrite.
	if _, err := os.Lstat(final); err == nil {
		return storage.Object{}, fmt.Errorf("local: put %s: %w", key, storage.ErrExist)
	}
	dir := filepath.Dir(final)

	f, err := s.createTemp(dir)
	if err != nil {
		return storage.Object{}, fmt.Errorf("local: put %s: %w", key, err)
	}
	tmp := f.Name()
	closed, renamed := false, false
	defer func() {
		if err == nil {
			return
		}
		if !closed {
			_ = f.Close()
		}
		_ = os.Remove(tmp)
		if renamed {
			// The file is in place but could not be made durable: an error
			// must leave nothing under the key.
			_ = os.Remove(final)
		}
		pruneEmpty(s.root, dir) // directories made for this Put
	}()

	if err := f.Chmod(filePerm); err != nil {
		return storage.Object{}, fmt.Errorf("local: put %s: %w", key, err)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(f, h), storage.ContextReader(ctx, r), make([]byte, copyBufSize))
	if err != nil {
		return storage.Object{}, fmt.Errorf("local: put %s: write: %w", key, err)
	}
	// A cancel that arrived during the last read still wins: a cancelled
	// run must not leave objects behind.
	if err := ctx.Err(); err != nil {
		return storage.Object{}, fmt.Errorf("local: put %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return storage.Object{}, fmt.Errorf("local: put %s: fsync: %w", key, err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return storage.Object{}, fmt.Errorf("local: put %s: close: %w", key, err)
	}
	if err := renameNoReplace(tmp, final, true); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return storage.Object{}, fmt.Errorf("local: put %s: %w", key, storage.ErrExist)
		}
		return storage.Object{}, fmt.Errorf("local: put %s: %w", key, err)
	}
	renamed = true
	if err := syncDir(dir); err != nil {
		return storage.Object{}, fmt.Errorf("local: put %s: %w", key, err)
	}
	return storage.Object{Key: key, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// createTemp creates the directories down to dir and a temporary file in
// it. A concurrent Delete may prune a directory that has just been created
// (it was empty): then try again.
func (s *Store) createTemp(dir string) (*os.File, error) {
	for attempt := 1; ; attempt++ {
		if err := mkdirAll(s.root, dir); err != nil {
			return nil, err
		}
		f, err := os.CreateTemp(dir, tempPrefix+"*")
		if err == nil || !notExist(err) || attempt == mkdirAttempts {
			return f, err
		}
	}
}

// Get opens key. The reader checks ctx before every read; the caller closes it.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("local: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("local: get %s: %w", key, err)
	}
	// OpenInRoot: a symbolic link under the root cannot lead out of it.
	f, err := os.OpenInRoot(s.root, filepath.FromSlash(key))
	if err != nil {
		if notExist(err) {
			return nil, fmt.Errorf("local: get %s: %w", key, storage.ErrNotExist)
		}
		return nil, fmt.Errorf("local: get %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("local: get %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("local: get %s: not a file: %w", key, storage.ErrNotExist)
	}
	return ctxReadCloser{storage.ContextReader(ctx, f), f}, nil
}

// List calls fn for every object whose key starts with prefix, in key order
// (byte order of the keys, as S3 lists them). It walks only the directory
// that holds prefix, reading one directory at a time, so memory does not grow
// with the number of objects. Staging directories and temporary files are
// skipped. An error from fn stops the walk and is returned as is.
func (s *Store) List(ctx context.Context, prefix string, fn func(storage.Object) error) error {
	dirKey := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dirKey = prefix[:i]
		if err := checkKey(dirKey); err != nil {
			return fmt.Errorf("local: list %q: %w", prefix, err)
		}
	}
	dir := s.root
	if dirKey != "" {
		dir = s.path(dirKey)
	}
	return s.walk(ctx, dir, dirKey, prefix, fn)
}

func (s *Store) walk(ctx context.Context, dir, dirKey, prefix string, fn func(storage.Object) error) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if notExist(err) && dir != s.root {
			return nil // nothing under this prefix, or removed while we walked
		}
		return fmt.Errorf("local: list %q: %w", prefix, err)
	}
	// os.ReadDir sorts by name, but keys sort by the whole path: "a.txt"
	// comes before "a/b" because '.' < '/'. Sort a directory as "name/".
	sortName := func(e fs.DirEntry) string {
		if e.IsDir() {
			return e.Name() + "/"
		}
		return e.Name()
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return cmp.Compare(sortName(a), sortName(b)) })

	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("local: list %q: %w", prefix, err)
		}
		name := e.Name()
		if reserved(name) {
			continue
		}
		key := name
		if dirKey != "" {
			key = dirKey + "/" + name
		}
		switch {
		case e.IsDir():
			// Descend only where keys can match the prefix.
			sub := key + "/"
			if strings.HasPrefix(sub, prefix) || strings.HasPrefix(prefix, sub) {
				if err := s.walk(ctx, filepath.Join(dir, name), key, prefix, fn); err != nil {
					return err
				}
			}
		case e.Type().IsRegular():
			if !strings.HasPrefix(key, prefix) {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				if notExist(err) {
					continue // deleted while we walked
				}
				return fmt.Errorf("local: list %q: %w", prefix, err)
			}
			if err := fn(storage.Object{Key: key, Size: fi.Size()}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete removes key and then any directories it leaves empty (up to the
// root), so that a deleted pack leaves no trace. Deleting a missing key, or a
// key that names a directory, is not an error and changes nothing.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("local: delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local: delete %s: %w", key, err)
	}
	p := s.path(key)
	fi, err := os.Lstat(p)
	if err != nil {
		if notExist(err) {
			return nil
		}
		return fmt.Errorf("local: delete %s: %w", key, err)
	}
	if fi.IsDir() {
		return nil
	}
	if err := os.Remove(p); err != nil && !notExist(err) {
		return fmt.Errorf("local: delete %s: %w", key, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil && !notExist(err) {
		return fmt.Errorf("local: delete %s: %w", key, err)
	}
	pruneEmpty(s.root, filepath.Dir(p))
	return nil
}

// pruneEmpty removes dir and its parents while they are empty, stopping at
// root (which stays). Best effort: a directory that is not empty, or any
// other error, ends it.
func pruneEmpty(root, dir string) {
	for dir != root && strings.HasPrefix(dir, root+string(filepath.Separator)) {
		if err := os.Remove(dir); err != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// mkdirAll creates dir and its missing parents below root (which must
// exist: mkdirAll never creates it, so that a removed staging directory is
// not brought back), each 0755, fsyncing the parent of every directory it
// creates so that the new entry survives a crash.
func mkdirAll(root, dir string) error {
	if dir == root {
		return nil
	}
	fi, err := os.Stat(dir)
	if err == nil {
		if fi.IsDir() {
			return nil
		}
		return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(dir)
	if err := mkdirAll(root, parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, dirPerm); err != nil {
		if errors.Is(err, fs.ErrExist) {
			if fi, serr := os.Stat(dir); serr == nil && fi.IsDir() {
				return nil // created by a concurrent Put
			}
		}
		return err
	}
	if err := os.Chmod(dir, dirPerm); err != nil { // whatever the umask
		return err
	}
	return syncDir(parent)
}

// syncDir fsyncs a directory so that entries created, renamed or removed in
// it are durable. File systems that cannot fsync a directory are accepted,
// as restic does.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		err = nil
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// renameNoReplace renames oldpath to newpath unless newpath exists, in which
// case the error matches fs.ErrExist. It uses renameat2(RENAME_NOREPLACE)
// when tryRenameat2 is set and the kernel and file system have it; otherwise
// a file is hard-linked and the old name removed (link never replaces), and a
// directory is renamed after a check (a small window in which a directory
// created concurrently could be replaced if it is empty).
func renameNoReplace(oldpath, newpath string, tryRenameat2 bool) error {
	if tryRenameat2 {
		err := renameat2NoReplace(oldpath, newpath)
		if err == nil {
			return nil
		}
		if !errors.Is(err, errNoRenameat2) && !errors.Is(err, syscall.ENOSYS) &&
			!errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
			return &os.LinkError{Op: "renameat2", Old: oldpath, New: newpath, Err: err}
		}
	}
	fi, err := os.Lstat(oldpath)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		if err := os.Link(oldpath, newpath); err != nil {
			return err
		}
		return os.Remove(oldpath)
	}
	if _, err := os.Lstat(newpath); err == nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.EEXIST}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Rename(oldpath, newpath)
}

type ctxReadCloser struct {
	io.Reader
	io.Closer
}
