package pack_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
)

func TestEnclosingPack(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	if _, err := mem.Put(ctx, "acme/2026-11-21/run1/manifest.json", strings.NewReader("{}"), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	packDir := filepath.Join(dir, "acme", "2026-11-21", "run1")
	if err := os.MkdirAll(filepath.Join(packDir, "frameworks"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(packDir, "manifest.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prefix string
		inside bool
	}{
		{"", false},
		{"acme", false},
		{"acme/2026-11-21", false},
		{"acme/2026-11-21/run1", true},
		{"acme/2026-11-21/run1/", true},
		{"acme/2026-11-21/run1/frameworks", true},
		{"acme/2026-11-21/run1/new/deeper", true},
		{"acme/2026-11-21/run10", false},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			err := pack.EnclosingPack(ctx, mem, tc.prefix)
			if got := errors.Is(err, pack.ErrInsidePack); got != tc.inside || (!tc.inside && err != nil) {
				t.Errorf("store: err = %v, want inside %v", err, tc.inside)
			}
			if tc.inside && !strings.Contains(err.Error(), "acme/2026-11-21/run1") {
				t.Errorf("store: %v does not name the pack", err)
			}
			err = pack.EnclosingDir(filepath.Join(dir, filepath.FromSlash(tc.prefix)))
			if got := errors.Is(err, pack.ErrInsidePack); got != tc.inside || (!tc.inside && err != nil) {
				t.Errorf("dir: err = %v, want inside %v", err, tc.inside)
			}
			if tc.inside && !strings.Contains(err.Error(), packDir) {
				t.Errorf("dir: %v does not name the pack", err)
			}
		})
	}
}
