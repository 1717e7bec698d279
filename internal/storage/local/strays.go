package local

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Strays calls fn for every entry under the directory of prefix that List
// does not show: temporary files and staging directories (".tmp-*",
// ".staging-*"), symbolic links, FIFOs, sockets and devices. Staging
// directories and symbolic links are reported, not entered. Verifying a
// pack uses it: such an entry is not an object, yet it is in the pack's
// folder and not in its manifest.
func (s *Store) Strays(ctx context.Context, prefix string, fn func(key, kind string) error) error {
	dir := s.root
	if p := strings.TrimSuffix(prefix, "/"); p != "" {
		if err := checkKey(p); err != nil {
			return fmt.Errorf("local: strays %q: %w", prefix, err)
		}
		dir = s.path(p)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if notExist(err) && p != dir {
				return nil
			}
			return fmt.Errorf("local: strays %q: %w", prefix, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		kind := ""
		switch t := d.Type(); {
		case reserved(d.Name()) && d.IsDir():
			kind = "staging directory"
		case reserved(d.Name()):
			kind = "temporary file"
		case t&os.ModeSymlink != 0:
			kind = "symbolic link"
		case t&os.ModeNamedPipe != 0:
			kind = "FIFO"
		case t&os.ModeSocket != 0:
			kind = "socket"
		case t&os.ModeDevice != 0:
			kind = "device"
		case d.IsDir() || t.IsRegular():
			return nil
		default:
			kind = "special file"
		}
		if err := fn(key, kind); err != nil {
			return err
		}
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
}
