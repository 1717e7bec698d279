package local_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/evidence-pack/evidence/internal/storage/storetest"
)

// Modes are 0644/0755 whatever the umask. Not parallel: the umask is per process.
func TestModes(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	s, root := newLocal(t)
	storetest.Put(t, s, "a/b/file.txt", []byte("x"))
	tx, err := s.Begin(t.Context(), "a/pack")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, tx, "sub/f", []byte("y"))
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{
		"a": 0o755, "a/b": 0o755, "a/b/file.txt": 0o644,
		"a/pack": 0o755, "a/pack/sub": 0o755, "a/pack/sub/f": 0o644,
	} {
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", p, got, want)
		}
	}
}
