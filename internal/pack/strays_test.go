package pack_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage/local"
)

// Verify of a local pack reports every entry the manifest does not list,
// whatever its type: the store's temporary names, symbolic links, FIFOs.
func TestVerifyReportsEveryStrayEntry(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		make       func(p string) error
	}{
		{"temporary file", ".tmp-123", func(p string) error { return os.WriteFile(p, []byte("x"), 0o644) }},
		{"staging folder", "frameworks/.staging-run-42", func(p string) error { return os.MkdirAll(filepath.Join(p, "inner"), 0o755) }},
		{"symbolic link", "evil.pdf", func(p string) error { return os.Symlink("/etc/passwd", p) }},
		{"dangling link", "parquet/gone", func(p string) error { return os.Symlink("nowhere", p) }},
		{"FIFO", "pipe", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, root := backends[2].new(t)
			publishSample(t, s)
			dir := filepath.Join(root, filepath.FromSlash(packPrefix))
			if err := tc.make(filepath.Join(dir, filepath.FromSlash(tc.path))); err != nil {
				t.Fatal(err)
			}
			ps, err := local.New(dir)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := pack.Verify(t.Context(), ps, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Problems) != 1 || rep.Problems[0].Kind != pack.KindExtra || rep.Problems[0].Path != tc.path {
				t.Fatalf("problems %+v, want one extra %s", rep.Problems, tc.path)
			}
			// The same through the parent store and the pack's prefix.
			rep, err = pack.Verify(t.Context(), s, packPrefix)
			if err != nil || len(rep.Problems) != 1 || rep.Problems[0].Path != tc.path {
				t.Fatalf("via prefix: %v %+v", err, rep.Problems)
			}
		})
	}
}
