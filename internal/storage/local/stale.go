package local

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// RemoveStale removes the staging directories and temporary files under
// the directory of prefix that a run killed without cleaning up (kill -9, a
// node lost) left behind, and returns their keys. Only entries in which
// nothing was modified after cutoff are removed: a live run writes into its
// staging directory all the time, so the caller passes a cutoff further back
// than any run lasts. The rest of the tree is never touched.
func (s *Store) RemoveStale(ctx context.Context, prefix string, cutoff time.Time) ([]string, error) {
	dir := s.root
	if p := strings.TrimSuffix(prefix, "/"); p != "" {
		if err := checkKey(p); err != nil {
			return nil, fmt.Errorf("local: remove stale %q: %w", prefix, err)
		}
		dir = s.path(p)
	}
	var removed []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if notExist(err) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == dir || !reserved(d.Name()) || d.Type()&os.ModeSymlink != 0 {
			return nil
		}
		newest, err := newestChange(p)
		if err != nil {
			return err
		}
		skip := func() error {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if newest.After(cutoff) {
			return skip()
		}
		if err := os.RemoveAll(p); err != nil {
			return err
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		removed = append(removed, filepath.ToSlash(rel))
		return skip()
	})
	if err != nil {
		return removed, fmt.Errorf("local: remove stale %q: %w", prefix, err)
	}
	return removed, nil
}

// newestChange is the latest modification time of p and, for a directory,
// of everything below it.
func newestChange(p string) (time.Time, error) {
	var newest time.Time
	err := filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			if notExist(err) {
				return nil
			}
			return err
		}
		fi, err := d.Info()
		if err != nil {
			if notExist(err) {
				return nil
			}
			return err
		}
		if fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
		return nil
	})
	return newest, err
}
