package local

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A run killed with kill -9 leaves its staging directory (and maybe a
// temporary file); the next run removes what nobody touched since the
// cutoff, and leaves a live run's staging, the packs and other tenants alone.
func TestRemoveStale(t *testing.T) {
	ctx := context.Background()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	mk := func(rel string, dir bool, mtime time.Time) {
		t.Helper()
		p := filepath.Join(s.Root(), filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if dir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	// Killed long ago: everything old.
	mk("acme/2026-11-20/.staging-run1-123/frameworks/a.xlsx", false, old)
	mk("acme/2026-11-20/.staging-run1-123/frameworks", true, old)
	mk("acme/2026-11-20/.staging-run1-123", true, old)
	mk("acme/.tmp-replace-99", false, old)
	// A live run: its directory is old, but a file in it was just written.
	mk("acme/2026-11-21/.staging-run2-456/summary.pdf", false, time.Now())
	mk("acme/2026-11-21/.staging-run2-456", true, old)
	// A pack and another tenant's stale staging: not ours to touch.
	mk("acme/2026-11-20/run0/manifest.json", false, old)
	mk("other/2026-11-20/.staging-run9-1", true, old)

	removed, err := s.RemoveStale(ctx, "acme", time.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{"acme/.tmp-replace-99", "acme/2026-11-20/.staging-run1-123"}
	if !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	for _, rel := range []string{"acme/2026-11-21/.staging-run2-456/summary.pdf", "acme/2026-11-20/run0/manifest.json", "other/2026-11-20/.staging-run9-1"} {
		if _, err := os.Stat(filepath.Join(s.Root(), rel)); err != nil {
			t.Errorf("%s should stay: %v", rel, err)
		}
	}
	for _, rel := range want {
		if _, err := os.Stat(filepath.Join(s.Root(), rel)); !os.IsNotExist(err) {
			t.Errorf("%s should be gone: %v", rel, err)
		}
	}
	if _, err := s.RemoveStale(ctx, "../x", time.Now()); err == nil || !strings.Contains(err.Error(), "../x") {
		t.Errorf("a prefix outside the store must be refused: %v", err)
	}
	if removed, err := s.RemoveStale(ctx, "absent", time.Now()); err != nil || len(removed) != 0 {
		t.Errorf("an absent tenant folder: %v %v", removed, err)
	}
}
