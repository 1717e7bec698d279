package pack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/evidence-pack/evidence/internal/storage"
)

// ErrInsidePack is returned (wrapped) by EnclosingPack and EnclosingDir when
// an output location lies in a pack: a new pack written there would be an
// extra file of the old one, which then fails verification (and, on an
// Object Lock bucket, for the whole retention).
var ErrInsidePack = errors.New("inside an existing evidence pack")

// EnclosingPack checks that prefix (a key prefix in r, "" for its root) is
// neither a pack nor inside one: no manifest.json at prefix or at any of
// its parents. The error wraps ErrInsidePack and names the pack's prefix.
func EnclosingPack(ctx context.Context, r Reader, prefix string) error {
	prefix = strings.Trim(prefix, "/")
	for dir := prefix; ; dir = path.Dir(dir) {
		if dir == "." {
			dir = ""
		}
		key := path.Join(dir, ManifestName)
		rc, err := r.Get(ctx, key)
		switch {
		case err == nil:
			_ = rc.Close()
			return fmt.Errorf("%q holds %s: %w", dir, ManifestName, ErrInsidePack)
		case !errors.Is(err, storage.ErrNotExist):
			return fmt.Errorf("look for a pack at %q: %w", dir, err)
		}
		if dir == "" {
			return nil
		}
	}
}

// EnclosingDir is EnclosingPack for a directory: neither dir nor any of its
// parents holds a manifest.json. dir need not exist yet.
func EnclosingDir(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for d := abs; ; d = filepath.Dir(d) {
		// Any error but success (absent, a parent that is a file, no
		// permission to look) means no readable pack there.
		if _, err := os.Stat(filepath.Join(d, ManifestName)); err == nil {
			return fmt.Errorf("%s holds %s: %w", d, ManifestName, ErrInsidePack)
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}
