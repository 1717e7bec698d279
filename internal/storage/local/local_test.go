package local_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/local"
	"github.com/evidence-pack/evidence/internal/storage/storetest"
)

// tree lists every path under root (slash-separated, relative), directories
// with a trailing slash: what is really on disk, not what List shows.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func newLocal(t *testing.T) (*local.Store, string) {
	t.Helper()
	root := t.TempDir()
	s, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	return s, root
}

func TestNewRefusesAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := local.New(f); err == nil {
		t.Error("New on a file succeeded")
	}
	if _, err := local.New(""); err == nil {
		t.Error("New(\"\") succeeded")
	}
}

func TestFailedPutLeavesNoTemporaryFile(t *testing.T) {
	s, root := newLocal(t)
	storetest.Put(t, s, "pack/keep.txt", []byte("keep"))
	_, err := s.Put(t.Context(), "pack/broken.bin", failAfter(300<<10), storage.PutOptions{})
	if err == nil {
		t.Fatal("Put with a failing reader succeeded")
	}
	_, err = s.Put(t.Context(), "pack/keep.txt", strings.NewReader("other"), storage.PutOptions{})
	if !errors.Is(err, storage.ErrExist) {
		t.Fatalf("overwrite: %v", err)
	}
	if got, want := tree(t, root), []string{"pack/", "pack/keep.txt"}; !slices.Equal(got, want) {
		t.Errorf("on disk: %q, want %q", got, want)
	}
	// Directories made for a failed Put go too.
	if _, err := s.Put(t.Context(), "new/deep/dir/x.bin", failAfter(10), storage.PutOptions{}); err == nil {
		t.Fatal("Put with a failing reader succeeded")
	}
	if got, want := tree(t, root), []string{"pack/", "pack/keep.txt"}; !slices.Equal(got, want) {
		t.Errorf("on disk: %q, want %q", got, want)
	}
}

type failingReader struct{ left int }

func failAfter(n int) *failingReader { return &failingReader{n} }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, errors.New("disk on fire")
	}
	k := min(len(p), r.left)
	r.left -= k
	return k, nil
}

func TestReservedNames(t *testing.T) {
	s, _ := newLocal(t)
	for _, key := range []string{".staging-x", "a/.staging-run-1-123/manifest.json", ".tmp-123", "a/.tmp-9"} {
		if _, err := s.Put(t.Context(), key, strings.NewReader("x"), storage.PutOptions{}); err == nil {
			t.Errorf("Put(%q) succeeded", key)
		}
		if _, err := s.Begin(t.Context(), key); err == nil {
			t.Errorf("Begin(%q) succeeded", key)
		}
		if err := s.List(t.Context(), key+"/", func(storage.Object) error { return nil }); err == nil {
			t.Errorf("List(%q) succeeded", key+"/")
		}
	}
	// Names that merely contain the reserved words are fine.
	storetest.Put(t, s, "a/x.staging-1", []byte("x"))
	storetest.Put(t, s, "a/staging-1", []byte("x"))
}

func TestListSkipsStagingTempAndLinks(t *testing.T) {
	s, root := newLocal(t)
	storetest.Put(t, s, "p/a.txt", []byte("a"))
	for _, dir := range []string{"p/.staging-run-1-42", "p/sub"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"p/.staging-run-1-42/manifest.json", "p/.tmp-123", "p/sub/.tmp-9"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "p/link")); err != nil {
		t.Fatal(err)
	}
	if got := storetest.Keys(t, s, ""); !slices.Equal(got, []string{"p/a.txt"}) {
		t.Errorf("List = %q, want only p/a.txt", got)
	}
	if _, err := s.Get(t.Context(), "p/link"); err == nil {
		t.Error("Get of a symlink that points out of the root succeeded")
	}
}

func TestPutUnderAFile(t *testing.T) {
	s, _ := newLocal(t)
	storetest.Put(t, s, "a/b", []byte("file"))
	_, err := s.Put(t.Context(), "a/b/c", strings.NewReader("x"), storage.PutOptions{})
	if err == nil || errors.Is(err, storage.ErrExist) {
		t.Errorf("Put below a file = %v, want a plain error", err)
	}
}

func TestDeletePrunesEmptyDirectories(t *testing.T) {
	s, root := newLocal(t)
	storetest.Put(t, s, "acme/day/run/frameworks/cis/evidence.xlsx", []byte("x"))
	storetest.Put(t, s, "acme/other.txt", []byte("y"))
	if err := s.Delete(t.Context(), "acme/day/run/frameworks/cis/evidence.xlsx"); err != nil {
		t.Fatal(err)
	}
	if got, want := tree(t, root), []string{"acme/", "acme/other.txt"}; !slices.Equal(got, want) {
		t.Errorf("on disk: %q, want %q", got, want)
	}
	if err := s.Delete(t.Context(), "acme/other.txt"); err != nil {
		t.Fatal(err)
	}
	if got := tree(t, root); len(got) != 0 {
		t.Errorf("on disk: %q, want nothing", got)
	}
	if _, err := os.Stat(root); err != nil {
		t.Errorf("the root itself was removed: %v", err)
	}
	// A key naming a directory is not an object: Delete leaves it alone.
	storetest.Put(t, s, "d/x", []byte("x"))
	if err := s.Delete(t.Context(), "d"); err != nil {
		t.Fatal(err)
	}
	if got := storetest.Keys(t, s, ""); !slices.Equal(got, []string{"d/x"}) {
		t.Errorf("List = %q", got)
	}
}

func TestTxnStagingOnDisk(t *testing.T) {
	for _, commit := range []bool{true, false} {
		s, root := newLocal(t)
		tx, err := s.Begin(t.Context(), "acme/2026-11-21/run-1")
		if err != nil {
			t.Fatal(err)
		}
		storetest.Put(t, tx, "frameworks/cis/evidence.xlsx", []byte("xlsx"))
		storetest.Put(t, tx, "manifest.json", []byte("{}"))
		staged, _ := filepath.Glob(filepath.Join(root, "acme/2026-11-21/.staging-run-1-*"))
		if len(staged) != 1 {
			t.Fatalf("staging directories: %q, want one in the pack's parent", staged)
		}
		if _, err := os.Stat(filepath.Join(staged[0], "frameworks/cis/evidence.xlsx")); err != nil {
			t.Errorf("staged file: %v", err)
		}
		var want []string
		if commit {
			err = tx.Commit(t.Context())
			want = []string{"acme/", "acme/2026-11-21/", "acme/2026-11-21/run-1/",
				"acme/2026-11-21/run-1/frameworks/", "acme/2026-11-21/run-1/frameworks/cis/",
				"acme/2026-11-21/run-1/frameworks/cis/evidence.xlsx", "acme/2026-11-21/run-1/manifest.json"}
		} else {
			err = tx.Abort(t.Context()) // and the empty parents go too
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := tree(t, root); !slices.Equal(got, want) {
			t.Errorf("commit=%v: on disk %q, want %q", commit, got, want)
		}
	}
}

func TestCommitDoesNotReplaceAnEmptyDirectory(t *testing.T) {
	// rename(2) silently replaces an empty directory; Commit must not.
	s, root := newLocal(t)
	tx, err := s.Begin(t.Context(), "acme/day/run")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, tx, "manifest.json", []byte("{}"))
	if err := os.Mkdir(filepath.Join(root, "acme/day/run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); !errors.Is(err, storage.ErrExist) {
		t.Fatalf("Commit onto an empty directory = %v, want ErrExist", err)
	}
	if err := tx.Abort(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := tree(t, root), []string{"acme/", "acme/day/", "acme/day/run/"}; !slices.Equal(got, want) {
		t.Errorf("on disk %q, want %q", got, want)
	}
}

func TestTxnClosedError(t *testing.T) {
	s, _ := newLocal(t)
	tx, err := s.Begin(t.Context(), "p")
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Put(t.Context(), "x", strings.NewReader("x"), storage.PutOptions{}); !errors.Is(err, local.ErrTxnClosed) {
		t.Errorf("Put after Commit = %v, want ErrTxnClosed", err)
	}
}

func TestPath(t *testing.T) {
	s, root := newLocal(t)
	p, err := s.Path("a/b.txt")
	if err != nil || p != filepath.Join(root, "a", "b.txt") {
		t.Errorf("Path = %q, %v", p, err)
	}
	if _, err := s.Path("../x"); err == nil {
		t.Error("Path(../x) succeeded")
	}
	if s.Root() != root {
		t.Errorf("Root = %q, want %q", s.Root(), root)
	}
}
